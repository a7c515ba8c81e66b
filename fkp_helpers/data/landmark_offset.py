"""Where the Udacity landmarks sit across a face, measured without a model: the offset of their midline from the
image's own mirror axis.

A face seen from the front matches its mirror image about one vertical axis, and the midpoints of its symmetric
landmark pairs lie on that axis. For one face the two axes differ by the detector's error, the face's own asymmetry,
its turn (yaw) and its lighting; over many faces those average out, and a shift of every landmark does not.
Mirroring each face together with its landmarks turns the landmarks' shift ``d`` into ``-d`` and leaves anything
the measurement itself adds unchanged, so half the difference of the two means estimates ``d`` alone.

The shared Udacity landmarks sit right of their faces' mirror axes (``scripts/udacity_x_offset.py`` measures it and
writes ``udacity_x_offset.json``); the conversion (``udacity.py``) moves every landmark left by that estimate.
Nothing measures the same in y: faces have no mirror symmetry across a horizontal line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from fkp_helpers.data.landmarks68 import IBUG68_MIDLINE, IBUG68_MIRROR_PAIRS, ibug68_mirror_permutation
from fkp_helpers.stats import mean_and_se

X_OFFSET_PATH = Path(__file__).with_name("udacity_x_offset.json")
"""The estimate the conversion corrects (written by ``scripts/udacity_x_offset.py``)."""
INNER_PAIRS = tuple((a, b) for a, b in IBUG68_MIRROR_PAIRS if a >= 17)
"""Brows, nose, eyes and lips: the jaw contour is left out (a detector places it least reliably)."""
INNER_MIDLINE = tuple(k for k in IBUG68_MIDLINE if k >= 17)
CANVAS, CANVAS_IPD, CANVAS_EYE_Y = 128, 40.0, 0.38
"""Each face is measured upright in a ``CANVAS`` px square, eyes ``CANVAS_IPD`` px apart at ``CANVAS_EYE_Y`` of its
height, centred between them."""
SEARCH_PX, SEARCH_STEP_PX = 4.0, 0.1
"""The mirror axis is searched within this many canvas px of the landmarks' midline, at this step."""
MIN_MATCH = 0.6
"""Faces whose image matches its mirror image less well (normalised correlation) are too turned or unevenly lit to
measure."""


@dataclass(frozen=True)
class MirrorAxis:
    """One face: how far (source px, + = right) its landmarks' midline lies from its image's mirror axis, how well
    the image matches its mirror image there, and its yaw (nose tip's offset from the eyes' midpoint, in
    inter-pupil distances)."""

    offset_px: float
    match: float
    yaw: float


def _upright(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """The ``(2, 3)`` similarity taking a face's pixels to the canvas (eyes level), and its scale."""
    left, right = landmarks[36:42].mean(axis=0), landmarks[42:48].mean(axis=0)
    across = right - left
    scale = CANVAS_IPD / float(np.hypot(*across))
    angle = -float(np.arctan2(across[1], across[0]))
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix[:, 2] = np.array([CANVAS / 2, CANVAS * CANVAS_EYE_Y]) - matrix[:, :2] @ ((left + right) / 2)
    return matrix, scale


def landmark_midline_x(points: np.ndarray) -> float:
    """Mean x of the inner symmetric pairs' midpoints and the inner midline points."""
    midpoints = [(points[a, 0] + points[b, 0]) / 2 for a, b in INNER_PAIRS]
    return float(np.mean(midpoints + [points[k, 0] for k in INNER_MIDLINE]))


def _mirror_match(image: np.ndarray, axis: float, rows: slice, columns: slice) -> float:
    """Normalised correlation of a window of ``image`` with the same window of its mirror image about x = ``axis``."""
    mirror = np.array([[-1.0, 0.0, 2.0 * axis], [0.0, 1.0, 0.0]], dtype=np.float32)
    mirrored = cv2.warpAffine(image, mirror, image.shape[::-1], flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    a, b = image[rows, columns], mirrored[rows, columns]
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def mirror_axis_offset(image: np.ndarray, landmarks: np.ndarray) -> MirrorAxis | None:
    """The :class:`MirrorAxis` of one grey image and its iBUG-68 landmarks (its pixels, pixel-index convention);
    None when the best axis lies at the edge of the search (no clear axis)."""
    matrix, scale = _upright(np.asarray(landmarks, dtype=float))
    canvas = cv2.warpAffine(np.asarray(image, dtype=np.float32), matrix, (CANVAS, CANVAS), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    points = landmarks @ matrix[:, :2].T + matrix[:, 2]
    midline = landmark_midline_x(points)
    rows = slice(int(points[17:27, 1].min()), int(min(CANVAS - 1, points[57, 1] + 4)))
    columns = slice(int(midline - 0.8 * CANVAS_IPD), int(midline + 0.8 * CANVAS_IPD))
    axes = midline + np.arange(-SEARCH_PX, SEARCH_PX + SEARCH_STEP_PX / 2, SEARCH_STEP_PX)
    matches = np.array([_mirror_match(canvas, axis, rows, columns) for axis in axes])
    best = int(matches.argmax())
    if best in (0, len(axes) - 1):
        return None
    before, peak, after = matches[best - 1:best + 2]
    axis = axes[best] + SEARCH_STEP_PX * 0.5 * (before - after) / (before - 2 * peak + after)
    return MirrorAxis(offset_px=(midline - axis) / scale, match=float(peak),
                      yaw=float((points[30, 0] - CANVAS / 2) / CANVAS_IPD))  # the eyes' midpoint is at CANVAS / 2


def mirror_face(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A face and its landmarks mirrored horizontally (``x -> width - 1 - x``, left and right points swapped)."""
    mirrored = np.asarray(landmarks, dtype=float)[ibug68_mirror_permutation()].copy()
    mirrored[:, 0] = image.shape[1] - 1 - mirrored[:, 0]
    return np.ascontiguousarray(image[:, ::-1]), mirrored


def mirror_axis_table(images: list[np.ndarray], landmarks: np.ndarray,
                      persons: list[str] | None = None) -> pd.DataFrame:
    """One row a face: :func:`mirror_axis_offset` of the face as it is and of its mirror image (NaN where none), and
    the face's ``person`` where ``persons`` are given (one a face)."""
    rows = []
    for image, points in zip(images, landmarks):
        plain, mirrored = mirror_axis_offset(image, points), mirror_axis_offset(*mirror_face(image, points))
        rows.append({
            "offset_px": np.nan if plain is None else plain.offset_px,
            "mirrored_offset_px": np.nan if mirrored is None else mirrored.offset_px,
            "match": np.nan if plain is None else plain.match,
            "yaw": np.nan if plain is None else plain.yaw,
        })
    table = pd.DataFrame(rows)
    if persons is not None:
        table["person"] = list(persons)
    return table


def x_offset_estimate(table: pd.DataFrame, min_match: float = MIN_MATCH) -> dict[str, float]:
    """The landmarks' shift from a :func:`mirror_axis_table`, over the faces that match their mirror image at least
    ``min_match`` and were measured both ways: ``(plain - mirrored) / 2`` with its standard error (over the people
    where the table has a ``person`` column: frames of one person are not independent, ``fkp_helpers.stats``), both
    means, and what the measurement adds by itself (``(plain + mirrored) / 2``)."""
    used = table[(table["match"] >= min_match) & table["offset_px"].notna() & table["mirrored_offset_px"].notna()]
    if used.empty:
        raise ValueError(f"no face matches its mirror image at {min_match} or better: nothing to estimate from")
    half_difference = (used["offset_px"] - used["mirrored_offset_px"]) / 2
    people = used["person"].to_numpy() if "person" in used else None
    offset, standard_error = mean_and_se(half_difference.to_numpy(), people)
    return {
        "x_offset_px": offset,
        "standard_error_px": standard_error,
        **({} if people is None else {"people": int(len(set(people)))}),
        "plain_mean_px": float(used["offset_px"].mean()),
        "mirrored_mean_px": float(used["mirrored_offset_px"].mean()),
        "method_offset_px": float(((used["offset_px"] + used["mirrored_offset_px"]) / 2).mean()),
        "faces": int(len(used)),
        "faces_measured": int(len(table)),
    }


def load_x_offset(path: Path = X_OFFSET_PATH) -> float:
    """The landmarks' x offset (source px) the conversion corrects."""
    return float(json.loads(path.read_text())["x_offset_px"])


def shift_x(landmarks: np.ndarray, offset_px: float) -> np.ndarray:
    """Landmarks ``(..., 2)`` moved left by ``offset_px`` (a float copy; y unchanged)."""
    moved = np.array(landmarks, dtype=np.float64, copy=True)
    moved[..., 0] -= offset_px
    return moved
