"""Flip test-time augmentation: predict on each image and on its mirror image, un-flip, and average.

A face's mirror image is another plausible face, so a model's prediction on it, mirrored back (``x -> 95 - x``)
and with the left/right labels swapped (``keypoints.flip_keypoints_horizontally``), is a second estimate of the
same keypoints. Averaging the two cancels any left/right bias of the model. Without the label swap the mirrored
"left eye" would land on the right eye.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import pandas as pd

from fkp_helpers.data.keypoints import N_KEYPOINTS, flip_keypoints_horizontally
from fkp_helpers.evaluation.metrics import rmse_px

PredictFn = Callable[[np.ndarray], np.ndarray]
"""Maps images ``(N, 96, 96)`` (or ``(N, 96, 96, 1)``), uint8 or float, to keypoints ``(N, 15, 2)`` in pixels."""


def mirror_images(images: np.ndarray) -> np.ndarray:
    """Horizontal mirror of ``(N, H, W)`` or ``(N, H, W, C)`` images (the width axis is axis 2)."""
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"expected images (N, H, W) or (N, H, W, C), got shape {images.shape}")
    return images[:, :, ::-1, ...].copy()


def _checked_prediction(predict_fn: PredictFn, images: np.ndarray, what: str) -> np.ndarray:
    predicted = np.asarray(predict_fn(images), dtype=np.float64)
    if predicted.shape != (len(images), N_KEYPOINTS, 2):
        raise ValueError(f"predict_fn returned shape {predicted.shape} for the {what} images, expected ({len(images)}, {N_KEYPOINTS}, 2)")
    return predicted


def flip_tta_predictions(predict_fn: PredictFn, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(plain, unflipped)``: predictions on the images, and on their mirrors mapped back to the original frame."""
    images = np.asarray(images)
    mirrored_images = mirror_images(images)
    plain = _checked_prediction(predict_fn, images, "original")
    mirrored = _checked_prediction(predict_fn, mirrored_images, "mirrored")
    return plain, flip_keypoints_horizontally(mirrored, width=images.shape[2])


def predict_with_flip_tta(predict_fn: PredictFn, images: np.ndarray) -> np.ndarray:
    """``(N, 15, 2)`` float32: the average of the plain prediction and the un-flipped prediction on the mirror image."""
    plain, unflipped = flip_tta_predictions(predict_fn, images)
    return ((plain + unflipped) / 2).astype(np.float32)


def flip_tta_table(
    plain_by_model: Mapping[str, np.ndarray], unflipped_by_model: Mapping[str, np.ndarray], truth: np.ndarray
) -> pd.DataFrame:
    """What flip TTA gains, one row a model: RMSE in pixels of the plain prediction, of the un-flipped mirror
    prediction alone, and of their average, then ``gain_px`` (plain minus TTA, positive is better) and ``gain_percent``."""
    rows = {}
    for name, plain in plain_by_model.items():
        unflipped = unflipped_by_model[name]
        rows[name] = {
            "rmse_px": rmse_px(plain, truth),
            "rmse_mirrored_px": rmse_px(unflipped, truth),
            "rmse_tta_px": rmse_px((np.asarray(plain, dtype=np.float64) + unflipped) / 2, truth),
        }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["rmse_px", "rmse_mirrored_px", "rmse_tta_px"])
    table["gain_px"] = table["rmse_px"] - table["rmse_tta_px"]
    table["gain_percent"] = 100 * table["gain_px"] / table["rmse_px"]
    table.index.name = "model"
    return table
