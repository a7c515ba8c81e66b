"""Conversion speed of the real Udacity / YouTube Faces set (3575 faces) into Kaggle's files.

    python benchmarks/bench_convert.py [--src DIR_OR_ZIP]

Converts the shared copy (``../shared/data/udacity-p1-faces``) unless told otherwise, into a temporary folder that is
deleted afterwards. Prints the machine and the timings; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from fkp_helpers.data.synth import INFO_FILE
from fkp_helpers.data.udacity import convert_udacity

SHARED_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "udacity-p1-faces"


def machine_line() -> str:
    """CPU model, its AVX-512 flags (or their absence) and the cores this process may use."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    lines = cpuinfo.splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor())
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    avx512 = sorted(f for f in flags if f.startswith("avx512"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}; avx512: {' '.join(avx512) if avx512 else 'none'}; {cores} usable cores (of {os.cpu_count()})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", type=Path, default=SHARED_SOURCE)
    args = parser.parse_args()
    print(f"machine: {machine_line()}")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        out = convert_udacity(args.src, Path(tmp) / "udacity-fkp", progress=False)
        seconds = time.perf_counter() - start
        info = json.loads((out / INFO_FILE).read_text())
    faces = info["n_train"] + info["n_test"]
    print(f"source: {args.src}")
    print(f"converted {faces} faces ({info['n_train']} training, {info['n_test']} test) in {seconds:.1f} s "
          f"({1e3 * seconds / faces:.1f} ms a face, files written included)")


if __name__ == "__main__":
    main()
