"""Data-quality checks: exact duplicate images, shapes far from the mean shape, unusual brightness or contrast."""
from __future__ import annotations

import numpy as np
import pandas as pd

from fkp_helpers.data.keypoints import KEYPOINT_NAMES
from fkp_helpers.data.shapes import alignment_residuals
from fkp_helpers.data.splits import image_groups


def duplicate_images(images: np.ndarray, keypoints: np.ndarray) -> pd.DataFrame:
    """Groups of identical images: their rows and the largest disagreement (px) between their labels.

    ``label_disagreement_px`` is the largest distance between the same keypoint in two copies (NaN if no keypoint
    is labelled in two copies).
    """
    groups = image_groups(images)
    records = []
    for group in np.flatnonzero(np.bincount(groups) > 1):
        rows = np.flatnonzero(groups == group)
        points = keypoints[rows]
        spread = np.linalg.norm(points[:, None] - points[None, :], axis=-1)
        worst = np.nanmax(spread) if np.isfinite(spread).any() else np.nan
        records.append({"rows": rows.tolist(), "copies": len(rows), "label_disagreement_px": worst})
    return pd.DataFrame(records, columns=["rows", "copies", "label_disagreement_px"])


def shape_outliers(keypoints: np.ndarray, mean_shape: np.ndarray, threshold_px: float) -> pd.DataFrame:
    """Rows with a keypoint farther than ``threshold_px`` from the similarity-aligned mean shape, worst first."""
    residuals = alignment_residuals(keypoints, mean_shape)
    worst = np.nanmax(np.where(np.isnan(residuals), -np.inf, residuals), axis=1)
    rows = np.flatnonzero(worst > threshold_px)
    worst_index = np.nanargmax(residuals[rows], axis=1) if len(rows) else np.array([], dtype=int)
    frame = pd.DataFrame({"row": rows, "worst_residual_px": worst[rows],
                          "worst_keypoint": [KEYPOINT_NAMES[i] for i in worst_index]})
    return frame.sort_values("worst_residual_px", ascending=False, ignore_index=True)


def robust_z(values: np.ndarray) -> np.ndarray:
    """(value - median) / (1.4826 * median absolute deviation): a z-score that outliers cannot hide."""
    median = np.median(values)
    mad = 1.4826 * np.median(np.abs(values - median))
    return (values - median) / (mad if mad > 0 else 1.0)


def sharpness(images: np.ndarray) -> np.ndarray:
    """Per image: variance of the 4-neighbour Laplacian (grey levels squared); low means blurred."""
    pixels = images.astype(np.float32)
    laplacian = (4 * pixels[:, 1:-1, 1:-1] - pixels[:, :-2, 1:-1] - pixels[:, 2:, 1:-1]
                 - pixels[:, 1:-1, :-2] - pixels[:, 1:-1, 2:])
    return laplacian.var(axis=(1, 2))


def image_statistics(images: np.ndarray, z_threshold: float = 3.5) -> pd.DataFrame:
    """Per image: mean brightness, contrast (std), sharpness (log Laplacian variance), their robust z-scores, and
    whether any is unusual."""
    columns = {"brightness": images.mean(axis=(1, 2)), "contrast": images.std(axis=(1, 2)),
               "sharpness": np.log10(sharpness(images) + 1.0)}
    frame = pd.DataFrame(columns)
    for name, values in columns.items():
        frame[f"{name}_z"] = robust_z(values)
    frame["unusual"] = (frame[[f"{name}_z" for name in columns]].abs() > z_threshold).any(axis=1)
    return frame
