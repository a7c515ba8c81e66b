"""Training speed of the modified VGG on this CPU: images/s, achieved GFLOP/s and the share of the fp32 peak.

Prints a table, never asserts. Each row trains a fresh model on random data for ``--warmup`` + ``--steps`` batches and
times only the last ``--steps`` (tracing and the first batches are excluded). Thread settings need a fresh process,
so those rows run in subprocesses. Timings on shared VMs move by +-30-50% between runs: compare rows of one run.

    python benchmarks/bench_training.py                 # all experiments, ~4-5 minutes on 2 cores
    python benchmarks/bench_training.py --only batch    # batch sizes 32/64/128 only
    python benchmarks/bench_training.py --only batch input --steps 4
    python benchmarks/bench_training.py --only feeding  # fit's input paths over 3 epochs, ~3 minutes
    python benchmarks/bench_training.py --only pair     # one 2-thread run against two 1-thread runs side by side
    python benchmarks/bench_training.py --only malloc   # freed memory kept in the process or not, ~4-8 minutes
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from fkp_helpers.machine import cpuinfo_field  # noqa: E402  (re-exported for bench_report)

EXPERIMENTS = ("batch", "input", "feeding", "jit", "bf16", "threads", "pair", "malloc", "small", "predict")


def cpu_peak_gflops() -> tuple[float, str, float]:
    """fp32 peak = cores x clock x FLOP/cycle/core, from /proc/cpuinfo; returns it, the formula and cores x FLOP/cycle.

    In a VM 'cpu MHz' is the nominal clock; cores that boost above it can beat this "peak"."""
    flags = set(cpuinfo_field("flags").split())
    cores = len(os.sched_getaffinity(0))
    nominal = re.search(r"@\s*([\d.]+)GHz", cpuinfo_field("model name"))
    mhz = float(cpuinfo_field("cpu MHz") or 0) or float(nominal[1] if nominal else 0) * 1000
    vendor, family = cpuinfo_field("vendor_id"), int(cpuinfo_field("cpu family") or 0)
    if "avx512f" in flags and vendor == "AuthenticAMD" and family == 25:
        per_cycle, why = 32, "Zen 4 AVX-512 runs on 2 x 256-bit FMA pipes: 2 units x 8 lanes x 2 (FMA)"
    elif "avx512f" in flags:
        per_cycle, why = 64, "AVX-512: 2 FMA units x 16 fp32 lanes x 2 (FMA)"
    elif "avx2" in flags and "fma" in flags:
        per_cycle, why = 32, "AVX2: 2 FMA units x 8 fp32 lanes x 2 (FMA)"
    else:
        per_cycle, why = 8, "SSE: 4 lanes x 2 ops"
    peak = cores * mhz / 1000 * per_cycle
    return peak, f"{cores} cores x {mhz / 1000:.2f} GHz x {per_cycle} FLOP/cycle ({why}) = {peak:.0f} GFLOP/s", cores * per_cycle


def sgemm_gflops(n: int = 4096, repeats: int = 5) -> float:
    """Attainable fp32 rate on this machine: the best of ``repeats`` float32 n x n matrix products (NumPy's BLAS)."""
    import numpy as np

    a, b = np.ones((n, n), dtype=np.float32), np.ones((n, n), dtype=np.float32)
    a @ b  # warm up threads and caches
    best = min(_timed_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed_seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def random_training_data(n: int) -> tuple:
    """``n`` random model inputs (float32, (n, 96, 96, 1)) and pixel targets (n, 30) with 30 % missing (NaN)."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((n, 96, 96, 1), dtype=np.float32)
    y = (rng.random((n, 30)) * 60 + 18).astype(np.float32)
    y[rng.random(y.shape) < 0.3] = np.nan
    return x, y


def measure(model_name: str, batch_size: int, input_kind: str, jit: bool, warmup: int, steps: int,
            mixed_precision: bool = False) -> dict:
    """Train ``warmup + steps`` batches; images/s over the last ``steps``."""
    import keras
    import tensorflow as tf

    from fkp_helpers.training import (
        ArrayBatches,
        MaskedMAE,
        MaskedMSE,
        MaskedRMSE,
        build_nouri_net,
        build_vgg,
        make_optimizer,
    )

    keras.utils.set_random_seed(0)
    model = (build_vgg if model_name == "vgg" else build_nouri_net)(mixed_precision=mixed_precision)
    model.compile(optimizer=make_optimizer("adam"), loss=MaskedMSE(), metrics=[MaskedMAE(), MaskedRMSE()],
                  jit_compile=jit)
    x, y = random_training_data(batch_size * (warmup + steps))

    times: list[float] = []
    timer = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: times.append(time.perf_counter()))
    if input_kind == "numpy":
        fit_args = dict(x=x, y=y, batch_size=batch_size, shuffle=False)
    elif input_kind == "pydataset":
        fit_args = dict(x=ArrayBatches(x, y, batch_size, seed=0))
    else:
        fit_args = dict(x=tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).prefetch(tf.data.AUTOTUNE))
    start = time.perf_counter()
    model.fit(**fit_args, epochs=1, verbose=0, callbacks=[timer])
    first_epoch = time.perf_counter() - start
    seconds = times[-1] - times[warmup - 1]
    return result_row(model, model_name + (" bf16" if mixed_precision else ""), batch_size, input_kind, jit,
                      steps * batch_size / seconds, first_epoch)


def result_row(model, label: str, batch_size: int, input_kind: str, jit: bool, images_per_s: float,
               first_epoch_s: float, passes: int = 3) -> dict:
    """One row of the table: the setting, this process's thread settings, the rate and its GFLOP/s, counting
    ``passes`` forward passes an image (3 for a training step, 1 for inference)."""
    import tensorflow as tf

    from fkp_helpers.training import count_flops

    forward = count_flops(model)
    return {
        "model": label, "batch": batch_size, "input": input_kind, "jit": jit,
        "threads": "{}/{}".format(tf.config.threading.get_intra_op_parallelism_threads(),
                                  tf.config.threading.get_inter_op_parallelism_threads()),
        "images_per_s": images_per_s, "gflops": images_per_s * passes * forward / 1e9,
        "first_epoch_s": first_epoch_s, "forward_gflop": forward / 1e9,
    }


def measure_feeding(kind: str, n_images: int = 1024, batch_size: int = 32, epochs: int = 3) -> dict:
    """The VGG's training images/s over ``epochs`` epochs of ``n_images``, median of the epochs after the first, with
    the batches handed to ``fit`` as ``kind``: "numpy" arrays, a "pydataset" (Keras feeds it through
    ``prefetch(AUTOTUNE)``) or that PyDataset ``prefetched`` (fixed buffer, no autotuning: what ``train_model`` does).
    A single epoch cannot tell them apart: the autotuner's cost shows from the second epoch on."""
    import statistics

    import keras

    from fkp_helpers.training import ArrayBatches, build_vgg, compile_model, make_optimizer
    from fkp_helpers.training.batches import prefetched

    keras.utils.set_random_seed(0)
    model = compile_model(build_vgg(), make_optimizer("sgd", 1e-3))
    x, y = random_training_data(n_images)
    if kind == "numpy":
        data = dict(x=x, y=y, batch_size=batch_size)
    else:
        batches = ArrayBatches(x, y, batch_size, seed=0)
        data = dict(x=prefetched(batches) if kind == "prefetched" else batches)
    starts: list[float] = []
    rates: list[float] = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: starts.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: rates.append(n_images / (time.perf_counter() - starts[-1])))
    model.fit(**data, epochs=epochs, shuffle=False, verbose=0, callbacks=[timer])
    return result_row(model, "vgg", batch_size, f"{kind} x{epochs}", False, statistics.median(rates[1:]),
                      n_images / rates[0])


def measure_predict(batch_size: int, n_images: int, model_name: str = "vgg") -> dict:
    """Inference images/s of ``predict`` on ``n_images`` at ``batch_size`` (after one untimed batch)."""
    import numpy as np

    from fkp_helpers.training import build_nouri_net, build_vgg

    model = (build_vgg if model_name == "vgg" else build_nouri_net)()
    x = np.random.default_rng(0).random((n_images, 96, 96, 1), dtype=np.float32)
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)
    start = time.perf_counter()
    model.predict(x, batch_size=batch_size, verbose=0)
    images_per_s = n_images / (time.perf_counter() - start)
    return result_row(model, f"{model_name} (predict)", batch_size, "numpy", False, images_per_s, float("nan"),
                      passes=1)


def measure_malloc(keep: bool) -> dict:
    """``measure_feeding("prefetched")`` (notebook 03's feeding) with freed memory kept in the process, as
    ``fkp_helpers.training`` sets on import, or handed back to the system (glibc's default), with the process's minor
    page faults a second and the kernel's share of its CPU time over the whole measurement. Call it in a fresh
    process, before anything imports ``fkp_helpers.training``."""
    import resource

    if not keep:
        import fkp_helpers.memory

        fkp_helpers.memory.keep_freed_memory = lambda: False  # what fkp_helpers.training calls on import
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    row = measure_feeding("prefetched")
    after, seconds = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - start
    cpu_seconds = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return dict(row, input="memory " + ("kept" if keep else "returned"),
                faults_per_s=(after.ru_minflt - before.ru_minflt) / seconds,
                kernel_share=(after.ru_stime - before.ru_stime) / cpu_seconds)


def run_child(args: argparse.Namespace) -> None:
    if args.malloc:
        print("RESULT " + json.dumps(measure_malloc(args.malloc == "kept")), flush=True)
        return
    import tensorflow as tf

    intra, inter = (int(v) for v in args.threads.split("/"))
    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)
    row = measure("vgg", args.batch, "numpy", False, args.warmup, args.steps)
    row["threads"] = args.threads
    print("RESULT " + json.dumps(row), flush=True)


def child_rows(args: argparse.Namespace, settings: tuple[str, ...], batch: int = 64, steps: int | None = None,
               together: bool = False, malloc: str = "") -> list[dict]:
    """Rows measured by one child process per thread setting, one after another or (``together``) all at once."""
    commands = [[sys.executable, __file__, "--child", "--threads", setting, "--warmup", str(args.warmup),
                 "--steps", str(steps or args.steps), "--batch", str(batch), "--malloc", malloc]
                for setting in settings]
    if together:
        children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for command in commands]
        outputs = [child.communicate()[0] for child in children]
        for child, command in zip(children, commands):
            if child.returncode:
                raise subprocess.CalledProcessError(child.returncode, command)
    else:
        outputs = [subprocess.run(command, capture_output=True, text=True, check=True).stdout for command in commands]
    return [json.loads(line[7:]) for output in outputs for line in output.splitlines() if line.startswith("RESULT ")]


def pair_rows(args: argparse.Namespace) -> list[dict]:
    """One training process with 2 threads against two single-threaded ones at the same time (batch 32, as in
    notebook 03): whether two runs side by side train more images/s in all than one run using both cores."""
    steps = 4 * args.steps
    solo = child_rows(args, ("2/2",), batch=32, steps=steps)
    pair = child_rows(args, ("1/1", "1/1"), batch=32, steps=steps, together=True)
    total = dict(pair[0], threads="2x1/1", images_per_s=sum(row["images_per_s"] for row in pair),
                 gflops=sum(row["gflops"] for row in pair))
    return solo + [dict(row, threads="1/1 of 2") for row in pair] + [total]


def malloc_rows(args: argparse.Namespace, rounds: int = 2) -> list[dict]:
    """``measure_malloc`` with freed memory kept and returned, alternating, each in a fresh process, ``rounds``
    times: on the 2-core Zen 3 without it, a quarter of the training process's CPU time went to page faults."""
    return [row for _ in range(rounds) for setting in ("kept", "returned")
            for row in child_rows(args, ("0/0",), malloc=setting)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=EXPERIMENTS, default=list(EXPERIMENTS))
    parser.add_argument("--warmup", type=int, default=2, help="batches not timed (tracing, caches)")
    parser.add_argument("--steps", type=int, default=8, help="batches timed")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", default="0/0", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=64, help=argparse.SUPPRESS)
    parser.add_argument("--malloc", choices=("", "kept", "returned"), default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return run_child(args)

    peak, formula, flop_per_cycle = cpu_peak_gflops()
    print(f"fp32 peak: {formula}")
    sgemm = sgemm_gflops()
    print(f"attainable fp32 rate: {sgemm:.0f} GFLOP/s (best float32 4096x4096 matrix product with NumPy's BLAS)")
    import tensorflow as tf

    print(f"TensorFlow {tf.__version__}; oneDNN opts: {os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'default (on)')}")
    started = time.perf_counter()
    rows: list[dict] = []

    def add(row: dict) -> None:
        rows.append(row)
        print(f"  {row['model']:14s} batch {row['batch']:4d} {row['input']:9s} jit={str(row['jit']):5s} "
              f"threads {row['threads']:4s} {row['images_per_s']:7.1f} img/s {row['gflops']:6.1f} GFLOP/s "
              f"({100 * row['gflops'] / peak:4.1f}% of peak, {100 * row['gflops'] / sgemm:4.1f}% of sgemm)", flush=True)

    if "batch" in args.only:
        for batch in (32, 64, 128):
            add(measure("vgg", batch, "numpy", False, args.warmup, args.steps))
    if "input" in args.only:
        for kind in ("pydataset", "tfdata"):
            add(measure("vgg", 64, kind, False, args.warmup, args.steps))
    if "feeding" in args.only:
        for kind in ("numpy", "pydataset", "prefetched"):
            add(measure_feeding(kind))
    if "jit" in args.only:
        add(measure("vgg", 64, "numpy", True, args.warmup, args.steps))
    if "bf16" in args.only:
        add(measure("vgg", 64, "numpy", False, args.warmup, args.steps, mixed_precision=True))
    if "threads" in args.only:
        for row in child_rows(args, ("1/1", "2/2", "4/2")):
            add(row)
    if "pair" in args.only:
        for row in pair_rows(args):
            add(row)
    if "malloc" in args.only:
        for row in malloc_rows(args):
            add(row)
            print(f"    {row['faults_per_s']:,.0f} minor page faults/s, {100 * row['kernel_share']:.1f} % of the "
                  "process's CPU time in the kernel", flush=True)
    if "small" in args.only:
        add(measure("small", 64, "numpy", False, args.warmup, 4 * args.steps))
    if "predict" in args.only:
        add(measure_predict(128, 1024))

    import pandas as pd

    table = pd.DataFrame(rows)
    table["pct_of_peak"] = 100 * table["gflops"] / peak
    table["pct_of_sgemm"] = 100 * table["gflops"] / sgemm
    print()
    print(table.round(2).to_string(index=False))
    fp32 = table[~table["model"].str.contains("bf16")]
    if len(fp32) and fp32["gflops"].max() > peak:
        print(f"The best fp32 row beats that peak: the cores must run at {fp32['gflops'].max() / flop_per_cycle:.2f} GHz "
              "or more (boost above the reported clock), or the FLOP/cycle assumption is too low.")
    print("bf16 rows compute in bfloat16 (AVX512_BF16 doubles the peak FLOP rate); their % column is of the fp32 peak.")
    forward = {row["model"].split()[0]: row["forward_gflop"] for row in rows}
    print(f"\nForward pass: {', '.join(f'{name} {gflop:.3f}' for name, gflop in forward.items())} GFLOP/image "
          "(2 x MACs of conv and dense layers); a training step counted as 3x forward. "
          f"Total benchmark time {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
