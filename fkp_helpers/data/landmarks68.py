"""The iBUG 68-point landmarks (300-W, Multi-PIE, dlib) mapped onto Kaggle's 15 keypoints, defined once.

iBUG numbers the points from the image's left: point 36 is the outer corner of the eye on the image's left, which is
the person's RIGHT eye. Kaggle's "left" is the person's left, on the image's right (larger x). 0-based indices: jaw
0-16, brows 17-26 (17-21 on the image's left), nose 27-35 (30 the tip), eyes 36-41 (image's left) and 42-47, outer
lip 48-59 (48 and 54 the corners, 51 the top centre, 57 the bottom centre), inner lip 60-67.
"""
from __future__ import annotations

import numpy as np

from fkp_helpers.data.keypoints import KEYPOINT_NAMES

N_IBUG68 = 68

IBUG68_FOR_KAGGLE: dict[str, tuple[int, ...]] = {
    "left_eye_center": (42, 43, 44, 45, 46, 47),
    "right_eye_center": (36, 37, 38, 39, 40, 41),
    "left_eye_inner_corner": (42,),
    "left_eye_outer_corner": (45,),
    "right_eye_inner_corner": (39,),
    "right_eye_outer_corner": (36,),
    "left_eyebrow_inner_end": (22,),
    "left_eyebrow_outer_end": (26,),
    "right_eyebrow_inner_end": (21,),
    "right_eyebrow_outer_end": (17,),
    "nose_tip": (30,),
    "mouth_left_corner": (54,),
    "mouth_right_corner": (48,),
    "mouth_center_top_lip": (51,),
    "mouth_center_bottom_lip": (57,),
}
"""For each Kaggle keypoint, the iBUG-68 points whose mean it is (eye centres: the mean of the six contour points)."""

IBUG68_MIRROR_PAIRS: tuple[tuple[int, int], ...] = (
    *((k, 16 - k) for k in range(8)),                                   # jaw
    *((17 + k, 26 - k) for k in range(5)),                              # brows
    (31, 35), (32, 34),                                                 # nostrils
    (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46),         # eyes
    (48, 54), (49, 53), (50, 52), (59, 55), (58, 56),                   # outer lip
    (60, 64), (61, 63), (67, 65),                                       # inner lip
)
"""The iBUG-68 points that swap places when a face is mirrored (image's left first)."""
IBUG68_MIDLINE: tuple[int, ...] = (8, 27, 28, 29, 30, 33, 51, 57, 62, 66)
"""The iBUG-68 points on a face's midline (chin, nose bridge and tip, lip centres)."""


def ibug68_mirror_permutation() -> np.ndarray:
    """Index array: after a horizontal mirror, point ``k`` takes the values of point ``permutation[k]``."""
    permutation = np.arange(N_IBUG68)
    for left, right in IBUG68_MIRROR_PAIRS:
        permutation[left], permutation[right] = right, left
    return permutation


def kaggle_keypoints_from_ibug68(points68: np.ndarray) -> np.ndarray:
    """Kaggle's 15 keypoints ``(N, 15, 2)`` from iBUG-68 landmarks ``(N, 68, 2)``, in the same pixel coordinates."""
    points68 = np.asarray(points68, dtype=np.float64)
    if points68.ndim != 3 or points68.shape[1:] != (N_IBUG68, 2):
        raise ValueError(f"expected iBUG-68 landmarks of shape (N, {N_IBUG68}, 2), got {points68.shape}")
    return np.stack([points68[:, list(IBUG68_FOR_KAGGLE[name])].mean(axis=1) for name in KEYPOINT_NAMES], axis=1)
