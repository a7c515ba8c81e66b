"""Measure how far right of their faces the Udacity landmarks sit, without a model, and write the estimate that the
real-faces conversion corrects (``fkp_helpers/data/udacity_x_offset.json``; derived numbers only).

Reads a Udacity source (default: the shared copy) and measures the training-side people of the conversion's
default split (seed 0, a fifth of the people for test), so the test people choose nothing. See
``fkp_helpers.data.landmark_offset`` for the method; 1.5 min on 2 cores.

    python scripts/udacity_x_offset.py [SOURCE] [--out PATH]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from fkp_helpers.data.kaggle_io import write_atomically
from fkp_helpers.data.landmark_offset import X_OFFSET_PATH, mirror_axis_table, x_offset_estimate
from fkp_helpers.data.landmarks68 import kaggle_keypoints_from_ibug68
from fkp_helpers.data.udacity import read_udacity, split_people
from fkp_helpers.evaluation.metrics import inter_pupil_distance

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "udacity-p1-faces"
SPLIT_SEED, TEST_FRACTION = 0, 0.2
"""The conversion's defaults (``convert_udacity``): its first draw from this seed is the split by person."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=X_OFFSET_PATH)
    args = parser.parse_args()
    faces = read_udacity(args.source, progress=True)
    training = np.flatnonzero(~split_people(faces.persons, np.random.default_rng(SPLIT_SEED), TEST_FRACTION))
    table = mirror_axis_table([faces.images[i] for i in training], faces.landmarks[training],
                              [faces.persons[i] for i in training])
    estimate = x_offset_estimate(table)
    record = {
        "source": (f"scripts/udacity_x_offset.py on {args.source.name}: the training-side people of the split "
                   f"(seed {SPLIT_SEED}, test fraction {TEST_FRACTION}), landmarks' midline minus the image's mirror "
                   "axis, source px, + = landmarks right of the face"),
        **estimate,
    }
    write_atomically(args.out, (json.dumps(record, indent=1) + "\n").encode())
    sizes = pd.qcut(inter_pupil_distance(kaggle_keypoints_from_ibug68(faces.landmarks[training])), 4)
    by_size = pd.DataFrame({size: x_offset_estimate(group) for size, group in table.groupby(sizes, observed=True)}).T
    by_size = by_size[["x_offset_px", "standard_error_px", "faces", "people"]].astype(
        {"faces": int, "people": int}).rename_axis(
        "inter-pupil distance (source px)")
    print(json.dumps(record, indent=1))
    print("by face size (quartiles of all measured faces):")
    print(by_size.round(3).to_string())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
