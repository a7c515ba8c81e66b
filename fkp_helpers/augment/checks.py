"""Checks of the augmentation shown in notebook 02: named transforms, before/after grids, and a pixel-level
consistency check (render an FKP-synth face, transform it, redraw it from the transformed labels, measure the shift)."""
from __future__ import annotations

from typing import Callable

import matplotlib.figure
import numpy as np
import pandas as pd

from fkp_helpers.augment.pipeline import (
    AugmentConfig,
    apply_augmenter,
    augment_batch,
    flip_horizontally,
    naive_flip,
    single_augmenter,
)
from fkp_helpers.data.keypoints import IMAGE_SIZE, keypoint_index
from fkp_helpers.data.synth import FaceStyle, render_face
from fkp_helpers.plotting import face_grid

Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""(images, keypoints) -> (images, keypoints), as used by :func:`demo_transforms` and :func:`consistency_table`."""

CLEAN_STYLE = FaceStyle(background_gradient=0.0)
"""FKP-synth appearance for the consistency check: no lighting gradient, blur or noise."""


def demo_transforms(seed: int = 0, config: AugmentConfig | None = None) -> dict[str, Transform]:
    """Named (images, keypoints) -> (images, keypoints) transforms for notebook 02: each augmenter alone, the flips, all."""
    config = config or AugmentConfig()

    def imgaug_step(name: str) -> Transform:
        return lambda images, keypoints: apply_augmenter(single_augmenter(name, config), images, keypoints, seed)

    return {
        "contrast + blur": imgaug_step("contrast_blur"),
        "brightness": imgaug_step("brightness"),
        "rotation + scale": imgaug_step("rotate_scale"),
        "translation": imgaug_step("translate"),
        "horizontal flip": flip_horizontally,
        "naive flip (bug)": naive_flip,
        "full pipeline": lambda images, keypoints: augment_batch(images, keypoints, seed, config),
    }


def face_region(keypoints: np.ndarray, margin: int = 8) -> tuple[slice, slice]:
    """Rows and columns of the keypoints' bounding box grown by ``margin`` pixels, inside the frame."""
    low = np.clip(np.floor(np.nanmin(keypoints, axis=0)) - margin, 0, IMAGE_SIZE - 1).astype(int)
    high = np.clip(np.ceil(np.nanmax(keypoints, axis=0)) + margin + 1, 1, IMAGE_SIZE).astype(int)
    return slice(low[1], high[1]), slice(low[0], high[0])


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation of two equally shaped arrays (1: identical up to gain and offset)."""
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / max(np.sqrt((a * a).sum() * (b * b).sum()), 1e-12))


def alignment_shift_px(
    image: np.ndarray, keypoints: np.ndarray, style: FaceStyle = CLEAN_STYLE, search_px: float = 1.0,
    steps: tuple[float, ...] = (0.25, 0.05),
) -> tuple[np.ndarray, float]:
    """Shift s (px) for which ``render_face(keypoints + s)`` best matches ``image`` on the face (max NCC), and the NCC.

    A coarse-to-fine grid search: ``search_px`` on a ``steps[0]`` grid, then +-0.6 step around the best on the next.
    """
    region = face_region(keypoints)
    target = np.asarray(image, dtype=float)[region]
    best, radius, score = np.zeros(2), search_px, -1.0
    for step in steps:
        offsets = np.arange(-radius, radius + step / 2, step)
        candidates = [best + (dx, dy) for dy in offsets for dx in offsets]
        scores = [_ncc(target, render_face(keypoints + c, style)[region].astype(float)) for c in candidates]
        best, score, radius = candidates[int(np.argmax(scores))], max(scores), 0.6 * step
    return best, score


def consistency_table(keypoints: np.ndarray, transforms: dict[str, Transform], style: FaceStyle = CLEAN_STYLE) -> pd.DataFrame:
    """Per transform: render faces at ``keypoints``, transform, and measure how far re-rendered labels sit from pixels."""
    keypoints = np.asarray(keypoints, dtype=np.float32)
    images = np.stack([render_face(k, style) for k in keypoints])
    rows = []
    for name, transform in transforms.items():
        out_images, out_keypoints = transform(images, keypoints)
        kept = ~np.isnan(out_keypoints).any(axis=(1, 2))
        fits = [alignment_shift_px(i, k, style) for i, k in zip(out_images[kept], out_keypoints[kept])]
        shifts = np.array([np.linalg.norm(shift) for shift, _ in fits])
        rows.append({"transform": name, "faces": len(fits), "mean_shift_px": shifts.mean(),
                     "max_shift_px": shifts.max(), "mean_ncc": np.mean([ncc for _, ncc in fits])})
    return pd.DataFrame(rows).set_index("transform")


def upright_fraction(keypoints: np.ndarray) -> float:
    """Share of faces (with both eyes and the bottom lip labelled) whose eyes lie above the bottom lip."""
    eyes_y = np.asarray(keypoints)[:, [keypoint_index("left_eye_center"), keypoint_index("right_eye_center")], 1]
    lip_y = np.asarray(keypoints)[:, keypoint_index("mouth_center_bottom_lip"), 1]
    labelled = ~np.isnan(eyes_y).any(axis=1) & ~np.isnan(lip_y)
    return float((eyes_y[labelled].max(axis=1) < lip_y[labelled]).mean())


def before_after_grid(images: np.ndarray, keypoints: np.ndarray, transforms: dict[str, Transform]) -> matplotlib.figure.Figure:
    """Faces in columns; the first row as given, then one row per transform, keypoints drawn on each."""
    rows = [("original", images, keypoints)] + [(name, *t(images, keypoints)) for name, t in transforms.items()]
    titles = [name if column == 0 else "" for name, _, _ in rows for column in range(len(images))]
    return face_grid(np.concatenate([r[1] for r in rows]), np.concatenate([r[2] for r in rows]), titles=titles,
                     columns=len(images))


def lost_keypoints(before: np.ndarray, after: np.ndarray) -> tuple[int, int]:
    """How many labelled keypoints a transform turned into NaN (pushed out of the frame), and how many were labelled."""
    labelled_before = int((~np.isnan(np.asarray(before)[..., 0])).sum())
    return labelled_before - int((~np.isnan(np.asarray(after)[..., 0])).sum()), labelled_before
