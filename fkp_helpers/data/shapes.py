"""Shape geometry: similarity alignment (Procrustes) of keypoint sets, and the mean shape."""
from __future__ import annotations

import numpy as np


def similarity_transform(source: np.ndarray, target: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Least-squares similarity mapping ``source`` ``(K, 2)`` onto ``target`` ``(K, 2)``, ignoring NaN rows.

    Returns ``(scale, angle_radians, translation)`` such that ``target ~ scale * R(angle) @ source + translation``.
    """
    keep = ~(np.isnan(source).any(axis=1) | np.isnan(target).any(axis=1))
    if keep.sum() < 2:
        raise ValueError("a similarity transform needs at least 2 keypoints labelled in both shapes")
    src, dst = source[keep].astype(float), target[keep].astype(float)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - src_mean, dst - dst_mean
    # complex-number form of 2-D Procrustes: b ~ z * a with z = s * exp(i*angle)
    za, zb = a[:, 0] + 1j * a[:, 1], b[:, 0] + 1j * b[:, 1]
    z = np.vdot(za, zb) / np.vdot(za, za).real
    scale, angle = float(abs(z)), float(np.angle(z))
    rotated = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ src_mean
    return scale, angle, dst_mean - rotated


def apply_similarity(points: np.ndarray, scale: float, angle: float, translation: np.ndarray) -> np.ndarray:
    """Apply ``scale * R(angle) @ p + translation`` to ``(..., 2)`` points."""
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return scale * points @ rotation.T + translation


def align_to(shape: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``shape`` ``(K, 2)`` moved by the similarity that best maps it onto ``reference`` (NaN stays NaN)."""
    scale, angle, translation = similarity_transform(shape, reference)
    return apply_similarity(shape, scale, angle, translation)


def procrustes_mean(shapes: np.ndarray, iterations: int = 10) -> np.ndarray:
    """Generalised Procrustes mean of complete shapes ``(N, K, 2)``, centred at the origin, in their average size."""
    if np.isnan(shapes).any():
        raise ValueError("procrustes_mean needs complete shapes (no NaN)")
    centred = shapes - shapes.mean(axis=1, keepdims=True)
    size = float(np.sqrt((centred**2).sum(axis=(1, 2))).mean())
    mean = centred[0]
    for _ in range(iterations):
        aligned = np.stack([align_to(s, mean) for s in centred])
        mean = aligned.mean(axis=0)
        mean = mean - mean.mean(axis=0)
        mean *= size / np.sqrt((mean**2).sum())
    return level_eyes(mean)


def level_eyes(shape: np.ndarray) -> np.ndarray:
    """Rotate a centred shape about the origin so that the line between the two eye centres is horizontal."""
    right_to_left = shape[0] - shape[1]  # left_eye_center minus right_eye_center (Kaggle order)
    angle = -np.arctan2(right_to_left[1], right_to_left[0])
    return apply_similarity(shape, 1.0, angle, np.zeros(2))


def alignment_residuals(keypoints: np.ndarray, mean_shape: np.ndarray) -> np.ndarray:
    """Per-keypoint distance ``(N, K)`` of each shape, similarity-aligned to ``mean_shape``, from it (NaN if missing).

    The mean shape is aligned onto each face (so distances are in that face's pixels).
    """
    out = np.full(keypoints.shape[:2], np.nan)
    for i, shape in enumerate(keypoints):
        if (~np.isnan(shape[:, 0])).sum() < 2:
            continue
        fitted = align_to(mean_shape, shape)
        out[i] = np.linalg.norm(shape - fitted, axis=1)
    return out
