"""The 15 facial keypoints, defined once: Kaggle's column order, flip pairs and label subsets.

Coordinates everywhere in the public API are pixels in the 96x96 frame, in Kaggle's "pixel index" convention:
the centre of pixel column ``i`` is at ``x = i`` (so the frame spans ``-0.5 .. 95.5``).
"""
from __future__ import annotations

import numpy as np

IMAGE_SIZE = 96
"""Width and height of every image, in pixels."""

KEYPOINT_NAMES: tuple[str, ...] = (
    "left_eye_center",
    "right_eye_center",
    "left_eye_inner_corner",
    "left_eye_outer_corner",
    "right_eye_inner_corner",
    "right_eye_outer_corner",
    "left_eyebrow_inner_end",
    "left_eyebrow_outer_end",
    "right_eyebrow_inner_end",
    "right_eyebrow_outer_end",
    "nose_tip",
    "mouth_left_corner",
    "mouth_right_corner",
    "mouth_center_top_lip",
    "mouth_center_bottom_lip",
)
"""Keypoint names in Kaggle's column order."""

N_KEYPOINTS = len(KEYPOINT_NAMES)

COORDINATE_COLUMNS: tuple[str, ...] = tuple(f"{name}_{axis}" for name in KEYPOINT_NAMES for axis in ("x", "y"))
"""The 30 coordinate columns of ``training.csv``, in order (x then y for each keypoint)."""

ALWAYS_LABELLED: tuple[str, ...] = ("left_eye_center", "right_eye_center", "nose_tip", "mouth_center_bottom_lip")
"""The 4 keypoints that both labelling sources provide."""

FLIP_PAIRS: tuple[tuple[str, str], ...] = (
    ("left_eye_center", "right_eye_center"),
    ("left_eye_inner_corner", "right_eye_inner_corner"),
    ("left_eye_outer_corner", "right_eye_outer_corner"),
    ("left_eyebrow_inner_end", "right_eyebrow_inner_end"),
    ("left_eyebrow_outer_end", "right_eyebrow_outer_end"),
    ("mouth_left_corner", "mouth_right_corner"),
)
"""Left/right pairs whose labels a horizontal flip must swap."""


def keypoint_index(name: str) -> int:
    """Position of a keypoint in Kaggle's order; raises KeyError naming the unknown keypoint."""
    try:
        return KEYPOINT_NAMES.index(name)
    except ValueError:
        raise KeyError(f"unknown keypoint {name!r}; expected one of {', '.join(KEYPOINT_NAMES)}") from None


def _flip_permutation() -> np.ndarray:
    perm = np.arange(N_KEYPOINTS)
    for left, right in FLIP_PAIRS:
        i, j = keypoint_index(left), keypoint_index(right)
        perm[i], perm[j] = j, i
    perm.setflags(write=False)
    return perm


FLIP_PERMUTATION: np.ndarray = _flip_permutation()
"""Index array: after a horizontal flip, keypoint ``k`` takes the values of keypoint ``FLIP_PERMUTATION[k]``."""

ALWAYS_LABELLED_INDEX: np.ndarray = np.array([keypoint_index(n) for n in ALWAYS_LABELLED])
OTHER_INDEX: np.ndarray = np.array([i for i in range(N_KEYPOINTS) if i not in ALWAYS_LABELLED_INDEX])

SUBSETS: dict[str, np.ndarray] = {
    "always_labelled_4": ALWAYS_LABELLED_INDEX,
    "other_11": OTHER_INDEX,
    "all_15": np.arange(N_KEYPOINTS),
}
"""Named keypoint subsets used for reporting."""


def to_keypoint_array(coords: np.ndarray) -> np.ndarray:
    """Reshape ``(N, 30)`` Kaggle-ordered coordinates to ``(N, 15, 2)``."""
    coords = np.asarray(coords)
    if coords.shape[-1] != 2 * N_KEYPOINTS:
        raise ValueError(f"expected {2 * N_KEYPOINTS} coordinates per row, got shape {coords.shape}")
    return coords.reshape(*coords.shape[:-1], N_KEYPOINTS, 2)


def to_coordinate_array(keypoints: np.ndarray) -> np.ndarray:
    """Reshape ``(N, 15, 2)`` keypoints to ``(N, 30)`` in Kaggle's column order."""
    keypoints = np.asarray(keypoints)
    if keypoints.shape[-2:] != (N_KEYPOINTS, 2):
        raise ValueError(f"expected (..., {N_KEYPOINTS}, 2) keypoints, got shape {keypoints.shape}")
    return keypoints.reshape(*keypoints.shape[:-2], 2 * N_KEYPOINTS)


def mirror_x(x: np.ndarray, width: int = IMAGE_SIZE) -> np.ndarray:
    """Mirror x coordinates about the vertical centre line (pixel-index convention: ``x -> width - 1 - x``)."""
    return (width - 1) - np.asarray(x)


def flip_keypoints_horizontally(keypoints: np.ndarray, width: int = IMAGE_SIZE) -> np.ndarray:
    """Mirror ``(..., 15, 2)`` keypoints horizontally and swap the left/right labels. NaN stays NaN."""
    flipped = np.array(keypoints, dtype=float, copy=True)
    flipped[..., 0] = mirror_x(flipped[..., 0], width)
    return flipped[..., FLIP_PERMUTATION, :]


def complete_rows(targets: np.ndarray) -> np.ndarray:
    """Boolean mask ``(N,)`` of rows with all coordinates labelled; takes ``(N, 30)`` or ``(N, 15, 2)``."""
    targets = np.asarray(targets)
    return ~np.isnan(targets.reshape(len(targets), -1)).any(axis=1)
