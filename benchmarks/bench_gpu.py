"""The full profile's cost on a GPU, measured: notebook 03's training loop on the real faces, timed at the full
profile's batch size, and notebook 03's training time on the full profile estimated from those timings.

Run where Keras sees a GPU, with the real faces at hand (``make faces`` finds them; see the README):
``python benchmarks/bench_gpu.py [--epochs 5] [--workers 8] [--out bench-gpu]``. Without TensorFlow's GPU build,
``KERAS_BACKEND=jax`` runs the same code on JAX (``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` for deterministic
kernels). Each row trains one fresh model with ``train_scheduled`` (warmup and cosine decay, augmentation, validation
every epoch, checkpoints: what notebook 03 runs) on the people of the training split, or fits the bare step on them as
arrays; its first epoch (tracing, compiling) is timed apart from the median of the others. Timing only: a few epochs say nothing of the study's
results. Prints a table, writes ``bench_gpu.json``; never asserts.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fkp_helpers.augment import AugmentedSequence  # noqa: E402
from fkp_helpers.data import complete_rows, load_series_data, resolve_data_dir, split_groups, training_split  # noqa: E402
from fkp_helpers.profiles import Profile, get_profile  # noqa: E402
from fkp_helpers.training import (  # noqa: E402
    LATE_POINTS,
    bfloat16_is_native,
    build_nouri_net,
    build_vgg,
    compile_model,
    initial_model,
    model_inputs,
    model_targets,
    standardisation,
    train_scheduled,
)

ROWS = (  # model, bfloat16 (None: where native), augmentation workers (None: --workers; 0: the bare step)
    ("vgg", None, 0),
    ("vgg", None, None),
    ("vgg", False, None),
    ("nouri_net", None, None),
    ("vgg", None, 1),
)


def device_name() -> str:
    """The GPU's name from nvidia-smi, else the CPU's."""
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine()


def fresh_model(model_name: str, bfloat16: bool, scaling) -> keras.Model:
    """Notebook 03's standardised, He-initialised VGG or Nouri's net, with seed 0's initial weights."""
    builder = build_vgg if model_name == "vgg" else build_nouri_net
    return initial_model(lambda: builder(mixed_precision=bfloat16, scaling=scaling, he_init=True), 0)


def timing_row(model_name: str, bfloat16: bool, workers: int, epoch_s: list[float], images_per_s: float,
               validation_s: float) -> dict:
    """One row of the table: the first epoch apart, the median of the others."""
    return {"model": model_name, "precision": "mixed_bfloat16" if bfloat16 else "float32", "workers": workers,
            "epochs": len(epoch_s), "first_epoch_s": epoch_s[0], "epoch_s": float(np.median(epoch_s[1:])),
            "train_images_per_s": images_per_s, "validation_s": validation_s, "wall_s": float(sum(epoch_s))}


def loop_row(model_name: str, bfloat16: bool, workers: int, data: dict, profile: Profile, epochs: int) -> dict:
    """Train one fresh model for ``epochs`` as notebook 03 does (``train_scheduled``), batches prepared by
    ``workers`` threads."""
    rows = data["train_index"]
    batches = AugmentedSequence(data["images"][rows], data["keypoints"][rows], profile.batch_size, seed=0,
                                workers=workers, use_multiprocessing=False)
    with tempfile.TemporaryDirectory() as run_dir:
        history = train_scheduled(fresh_model(model_name, bfloat16, data["scaling"]), batches, data["val_data"],
                                  "sgd", 1e-3, epochs, 0, run_dir, "bench", progress_every=epochs).history
    later = history.iloc[1:]
    return timing_row(model_name, bfloat16, workers, history["seconds"].tolist(),
                      float(later["train_images_per_second"].median()), float(later["validation_seconds"].median()))


def bare_row(model_name: str, bfloat16: bool, data: dict, profile: Profile, epochs: int) -> dict:
    """The bare training step: ``fit`` on the training rows as arrays (no augmentation, no callbacks of ours,
    no validation)."""
    model = compile_model(fresh_model(model_name, bfloat16, data["scaling"]), "sgd", 1e-3)
    rows = data["train_index"]
    seconds: list[float] = []
    timer = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seconds.append(time.perf_counter()),
                                           on_epoch_end=lambda epoch, logs: seconds.append(time.perf_counter()))
    model.fit(model_inputs(data["images"][rows]), model_targets(data["keypoints"][rows]),
              batch_size=profile.batch_size, epochs=epochs, shuffle=False, verbose=0, callbacks=[timer])
    epoch_s = [end - begin for begin, end in zip(seconds[::2], seconds[1::2])]
    return timing_row(model_name, bfloat16, 0, epoch_s, len(rows) / float(np.median(epoch_s[1:])), 0.0)


def notebook03_workload(profile: Profile, train_batches: int, dropna_batches: int) -> dict:
    """Epochs and runs of notebook 03 on ``profile``: rate trials (the grid, before any extension beyond an edge) and
    the other seeds (VGG); the masked and dropna baselines (Nouri's net); the two range tests' steps (VGG)."""
    vgg_runs = 2 * len(profile.rate_factors) + 2 * (profile.seeds - 1)
    dropna_epochs = round(profile.baseline_epochs * train_batches / dropna_batches)
    return {"vgg_runs": vgg_runs, "vgg_epochs": vgg_runs * profile.epochs,
            "nouri_net_runs": 2, "nouri_net_epochs": profile.baseline_epochs + dropna_epochs,
            "dropna_epochs": dropna_epochs, "range_test_steps": 2 * profile.range_test_steps}


def estimate_seconds(workload: dict, vgg: dict, small: dict, train_batches: int, dropna_batches: int,
                     batch_size: int) -> float:
    """Notebook 03's training time from the rows' timings: every epoch at its row's median, every run's first epoch
    longer by what its row measured and its last fifth by ``LATE_POINTS`` more validations, dropna epochs in
    proportion to their batches (their validation whole), the range tests' steps at the VGG's training rate."""
    def run_extra(row: dict) -> float:
        return row["first_epoch_s"] - row["epoch_s"] + LATE_POINTS * row["validation_s"]

    small_train_s = small["epoch_s"] - small["validation_s"]
    dropna_epoch_s = small_train_s * dropna_batches / train_batches + small["validation_s"]
    small_s = ((workload["nouri_net_epochs"] - workload["dropna_epochs"]) * small["epoch_s"]
               + workload["dropna_epochs"] * dropna_epoch_s + workload["nouri_net_runs"] * run_extra(small))
    vgg_s = workload["vgg_epochs"] * vgg["epoch_s"] + workload["vgg_runs"] * run_extra(vgg)
    return vgg_s + small_s + workload["range_test_steps"] * batch_size / vgg["train_images_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs a row (the first is timed apart)")
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1),
                        help="threads preparing (augmenting) batches in the parallel rows")
    parser.add_argument("--out", default="bench-gpu", help="folder for bench_gpu.json")
    parser.add_argument("--max-train-images", type=int, default=None,
                        help="fit on at most this many training rows (a quick try on a CPU; default: all)")
    args = parser.parse_args()

    profile = get_profile("full")
    series = load_series_data(resolve_data_dir(None, profile))
    images, keypoints = series.train.images, series.train.keypoints
    groups, _ = split_groups(series)
    split = training_split(images, profile.val_fraction, 0, args.max_train_images, groups=groups)
    train_index, val_index = split["train_index"], split["val_index"]
    data = {"images": images, "keypoints": keypoints, "train_index": train_index,
            "val_data": (model_inputs(images[val_index]), model_targets(keypoints[val_index])),
            "scaling": standardisation(images[train_index], keypoints[train_index])}
    native = bfloat16_is_native()
    print(f"{device_name()}; Keras {keras.__version__} on {keras.config.backend()}; bfloat16 native: {native}; "
          f"{series.description}: {len(train_index)} training, {len(val_index)} validation images", flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    about = {"device": device_name(), "backend": keras.config.backend(), "keras": keras.__version__,
             "xla_flags": os.environ.get("XLA_FLAGS"), "cpus": os.cpu_count(), "data": series.description,
             "train_images": len(train_index), "val_images": len(val_index)}
    rows = []
    for model_name, bfloat16, workers in ROWS:
        bfloat16 = native if bfloat16 is None else bfloat16
        rows.append(bare_row(model_name, bfloat16, data, profile, args.epochs) if workers == 0 else
                    loop_row(model_name, bfloat16, workers or args.workers, data, profile, args.epochs))
        print(rows[-1], flush=True)
        (out / "bench_gpu.json").write_text(json.dumps({**about, "rows": rows}, indent=1))
    table = pd.DataFrame(rows)

    train_batches = -(-len(train_index) // profile.batch_size)
    dropna_batches = -(-int(complete_rows(keypoints[train_index]).sum()) // profile.batch_size)
    workload = notebook03_workload(profile, train_batches, dropna_batches)
    loops = [r for r in rows if r["workers"] and r["precision"] == rows[1]["precision"]]
    vgg = max((r for r in loops if r["model"] == "vgg"), key=lambda r: r["train_images_per_s"])
    small = next(r for r in loops if r["model"] == "nouri_net")
    estimate = estimate_seconds(workload, vgg, small, train_batches, dropna_batches, profile.batch_size)
    (out / "bench_gpu.json").write_text(json.dumps(
        {**about, "rows": rows, "notebook03_workload": workload, "notebook03_training_estimate_s": estimate},
        indent=1))
    print(table.round(2).to_string(index=False))
    print(f"Notebook 03 on the full profile ({workload}): about {estimate / 60:.1f} min of training at these rates "
          f"(VGG row: {vgg['precision']}, {vgg['workers']} workers).")


if __name__ == "__main__":
    main()
