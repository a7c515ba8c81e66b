"""Parse speed of Kaggle's training.csv: the seeds' per-row Python loop vs fkp_helpers, and the cached reload.

    python benchmarks/bench_parsing.py [--data-dir DIR]

Uses a full-size file (7049 rows, ~238 MB of CSV): the real one in data/raw if present, else full-size FKP-synth
(generated once, ~1 minute). Prints timings; asserts nothing.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fkp_helpers.data import (
    CACHE_DIR_NAME,
    find_kaggle_file,
    load_training_set,
    read_csv_bytes,
    read_training,
    resolve_data_dir,
)
from fkp_helpers.profiles import get_profile


def seed_style_parse(csv_path: Path) -> np.ndarray:
    """What the seed notebooks do: pandas for the columns, then split every pixel string in a Python loop."""
    frame = pd.read_csv(csv_path)
    return np.vstack([np.array(pixels.split(" "), dtype=float) for pixels in frame["Image"]]).reshape(-1, 96, 96)


def timed(label: str, function, *args):
    start = time.perf_counter()
    result = function(*args)
    seconds = time.perf_counter() - start
    print(f"{label:<52} {seconds:8.2f} s")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    start = time.perf_counter()
    data_dir = resolve_data_dir(args.data_dir, get_profile("quick"))
    print(f"data: {data_dir} (ready in {time.perf_counter() - start:.1f} s, including generation if it was missing)")
    training = find_kaggle_file(data_dir, "training")
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "training.csv"
        csv_path.write_bytes(read_csv_bytes(training))
        print(f"training.csv: {csv_path.stat().st_size / 1e6:.0f} MB, CRLF, Kaggle format")
        seed_images, seed_s = timed("seed loop (pandas + str.split per row)", seed_style_parse, csv_path)
        ours, first_s = timed("fkp_helpers.read_training (csv), first call*", read_training, csv_path)
        assert np.array_equal(seed_images, ours.images), "both parsers must agree"
        ours_s = min(timed("fkp_helpers.read_training (csv), again", read_training, csv_path)[1] for _ in range(3))
        _, zip_s = timed(f"fkp_helpers.read_training ({training.name})", read_training, training)
        copy = Path(tmp) / training.name
        shutil.copy(training, copy)
        _, first_s = timed("load_training_set, first call (parse + write cache)", load_training_set, copy)
        _, cached_s = timed("load_training_set, cached reload", load_training_set, copy)
        assert (copy.parent / CACHE_DIR_NAME).is_dir()
    print("* the first call in a process also loads numba and its compiled decoder from the on-disk cache")
    print(f"\nspeed-up of the parse over the seed loop: {seed_s / ours_s:.1f}x at best of 3, {seed_s / first_s:.1f}x on the "
          "first call (goal: at least 20x)")
    print(f"cached reload: {cached_s:.3f} s (goal: under 0.5 s)")


if __name__ == "__main__":
    main()
