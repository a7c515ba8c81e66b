"""Whether a run's labels sit where the image content is, in x: every model's mean bias on the plain images and,
mapped back, on their mirror images.

Training mirrors half the faces (with the left/right label swap), so a model cannot learn a horizontal offset between
the labels and the features they mark: if the labels sit ``d`` px right of the features, predictions on the plain
images land about ``d`` px left of the labels, and so do the mirror-image predictions mapped back. A vertical offset
is learnable (nothing mirrors y), so it does not show. ``-(plain + mirrored) / 2`` estimates ``d``.

Run after a main run: ``python scripts/flip_consistency.py runs/<profile>-...`` (1.5 min on 2 AVX-512 cores). It reads the
run's split, data folder and models, and prints one row per model and split (validation, and the test faces where
their labels are known), mean over keypoints of the mean residual (prediction minus label, px).
"""
from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from fkp_helpers.data import load_series_data
from fkp_helpers.evaluation import bias_table, flip_tta_predictions
from fkp_helpers.run_state import INFO_FILE
from fkp_helpers.training import load_model, predict_keypoints


def bias_row(model_name: str, split: str, plain: np.ndarray, mirrored: np.ndarray, truth: np.ndarray) -> dict:
    """Mean over keypoints of each prediction's mean residual in x and y, and the offset estimate in x."""
    plain_bias, mirrored_bias = bias_table(plain, truth).mean(), bias_table(mirrored, truth).mean()
    return {"model": model_name, "split": split,
            "x_plain_px": plain_bias["bias_x_px"], "x_mirrored_px": mirrored_bias["bias_x_px"],
            "y_plain_px": plain_bias["bias_y_px"], "y_mirrored_px": mirrored_bias["bias_y_px"],
            "label_offset_x_px": -(plain_bias["bias_x_px"] + mirrored_bias["bias_x_px"]) / 2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished main run (its models/ and split.npz)")
    args = parser.parse_args()
    data = load_series_data(json.loads((args.run / INFO_FILE).read_text())["data_dir"])
    val_index = np.load(args.run / "split.npz")["val_index"]
    splits = {"validation": (data.train.images[val_index], data.train.keypoints[val_index])}
    if data.hidden_truth is not None:
        splits["test"] = (data.test.images, data.hidden_truth.test_keypoints)
    names = json.loads((args.run / "training_results.json").read_text())["runs"]
    rows = []
    for name in names:
        model = load_model(args.run / "models" / f"{name}.keras", compile=False)
        for split, (images, truth) in splits.items():
            plain, mirrored = flip_tta_predictions(functools.partial(predict_keypoints, model), images)
            rows.append(bias_row(name, split, plain, mirrored, truth))
    print(f"{data.description}; mean residual over keypoints (prediction minus label), px")
    print(pd.DataFrame(rows).round(2).to_string(index=False))


if __name__ == "__main__":
    main()
