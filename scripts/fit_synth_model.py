"""Fit the FKP-synth model to the real Kaggle labels and write the derived numbers (never the label rows).

Reads ``training_keypoints.csv`` (the 30 keypoint columns of Kaggle's ``training.csv``) and ``IdLookupTable.csv``
from ``../shared/data/kaggle-fkp-labels/`` and writes ``fkp_helpers/fkp_synth_model.json``:
mean shape, principal shape modes, per-regime pose distributions, missing-label pattern counts, and the structure of
the lookup table (which feature sets the test images ask for).

    python scripts/fit_synth_model.py [LABELS_DIR]
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from fkp_helpers.data.kaggle_io import read_keypoint_labels, read_lookup_table, write_atomically
from fkp_helpers.data.keypoints import ALWAYS_LABELLED_INDEX, IMAGE_SIZE
from fkp_helpers.data.shapes import procrustes_mean, similarity_transform
from fkp_helpers.data.synth_model import MODEL_PATH, pattern_to_string

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LABELS = REPO.parent / "shared" / "data" / "kaggle-fkp-labels"
EXPLAINED_VARIANCE = 0.98


def fit_shape_modes(complete: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Principal modes ``(M, 15, 2)`` and their standard deviations of complete shapes aligned to ``mean``."""
    aligned = []
    for shape in complete:
        s, a, t = similarity_transform(shape, mean)
        rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        aligned.append(s * shape @ rotation.T + t)
    residual = (np.array(aligned) - mean).reshape(len(aligned), -1)
    _, singular, vt = np.linalg.svd(residual - residual.mean(axis=0), full_matrices=False)
    variance = singular**2 / (len(aligned) - 1)
    keep = int(np.searchsorted(np.cumsum(variance) / variance.sum(), EXPLAINED_VARIANCE) + 1)
    return vt[:keep].reshape(keep, -1, 2), np.sqrt(variance[:keep])


def fit_pose(keypoints: np.ndarray, mean: np.ndarray, index: np.ndarray) -> dict:
    """Mean and covariance of (log scale, angle, tx, ty) mapping the mean shape's ``index`` points onto each face."""
    params = []
    for shape in keypoints:
        s, a, t = similarity_transform(mean[index], shape[index])
        params.append([np.log(s), a, t[0], t[1]])
    params = np.array(params)
    return {"mean": params.mean(axis=0).tolist(), "cov": np.cov(params, rowvar=False).tolist(), "n": len(params)}


def lookup_structure(lookup_path: Path) -> list[dict]:
    """Feature sets the test images ask for, with how many images ask for each."""
    lookup = read_lookup_table(lookup_path)
    sets = Counter(tuple(group) for _, group in lookup.groupby("ImageId", sort=True)["FeatureName"])
    return [{"features": list(features), "images": n} for features, n in sets.most_common()]


def fit(labels_dir: Path) -> dict:
    """All derived numbers of the FKP-synth model."""
    keypoints = read_keypoint_labels(labels_dir / "training_keypoints.csv").astype(float)
    labelled = ~np.isnan(keypoints[..., 0])
    complete = keypoints[labelled.all(axis=1)]
    mean = procrustes_mean(complete)
    modes, mode_sd = fit_shape_modes(complete, mean)
    only_four = labelled[:, ALWAYS_LABELLED_INDEX].all(axis=1) & (labelled.sum(axis=1) == len(ALWAYS_LABELLED_INDEX))
    patterns = Counter(pattern_to_string(row) for row in labelled)
    return {
        "source": "fitted by scripts/fit_synth_model.py to the real Kaggle training labels (7049 rows)",
        "image_size": IMAGE_SIZE,
        "n_training_rows": int(len(keypoints)),
        "mean_shape": mean.round(4).tolist(),
        "modes": modes.round(5).tolist(),
        "mode_sd": mode_sd.round(4).tolist(),
        "pose": {
            "complete": fit_pose(complete, mean, np.arange(mean.shape[0])),
            "four_keypoint": fit_pose(keypoints[only_four], mean, ALWAYS_LABELLED_INDEX),
        },
        "missing_patterns": [{"labelled": p, "rows": n} for p, n in patterns.most_common()],
        "lookup_feature_sets": lookup_structure(labels_dir / "IdLookupTable.csv"),
    }


def main() -> None:
    labels_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_LABELS
    model = fit(labels_dir)
    write_atomically(MODEL_PATH, (json.dumps(model, indent=1) + "\n").encode())
    print(f"wrote {MODEL_PATH}: {len(model['modes'])} shape modes, {len(model['missing_patterns'])} missing patterns")


if __name__ == "__main__":
    main()
