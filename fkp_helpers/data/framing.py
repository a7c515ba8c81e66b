"""Framing a face like Kaggle's: one similarity warp into the 96x96 frame, at a pose drawn from the real labels.

FKP-synth's model (``synth_model.py``) holds the pose (log scale, angle, shift) of the mean shape on each real
labelled face, per labelling regime: ``complete`` rows fitted on all 15 keypoints, ``four_keypoint`` rows on the four
always-labelled ones. A face is fitted to the mean shape on the same points and moved to a pose sampled from its
regime, so its framing follows the real labels' (spread included) while its own shape is kept.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from fkp_helpers.data.keypoints import ALWAYS_LABELLED_INDEX, IMAGE_SIZE, N_KEYPOINTS, keypoint_index
from fkp_helpers.data.shapes import similarity_transform
from fkp_helpers.data.synth_model import SynthModel

REGIME_POINTS: dict[str, np.ndarray] = {"complete": np.arange(N_KEYPOINTS), "four_keypoint": ALWAYS_LABELLED_INDEX}
"""The keypoints each regime's pose was fitted on (``scripts/fit_synth_model.py``)."""
FRAME_MARGIN = 1.0
"""Every keypoint of a framed face lies at least this far (px) inside the frame (the real labels span 0.69..95.94)."""
MAX_POSE_ROUNDS = 100
FRAMING_STATISTICS = ("mean", "sd", "p5", "p95")
KAGGLE_FRAMING_PATH = Path(__file__).with_name("kaggle_framing.json")
"""The real Kaggle training labels' :func:`framing_statistics` (``scripts/kaggle_framing_reference.py``)."""
KAGGLE_FRAMING_SOURCE = ("framing_statistics of the real Kaggle training labels (the 30 keypoint columns of Kaggle's "
                         "training.csv, ../shared/data/kaggle-fkp-labels/training_keypoints.csv), written by "
                         "scripts/kaggle_framing_reference.py; derived numbers only, no label rows")
_LEFT_EYE, _RIGHT_EYE = keypoint_index("left_eye_center"), keypoint_index("right_eye_center")


def similarity_matrix(scale: float, angle: float, translation: np.ndarray) -> np.ndarray:
    """The ``(3, 3)`` homogeneous matrix of ``p -> scale * R(angle) @ p + translation``."""
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    return np.array([[c, -s, translation[0]], [s, c, translation[1]], [0.0, 0.0, 1.0]])


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Points ``(..., K, 2)`` moved by affine matrices ``(..., 2 or 3, 3)`` (one per leading index)."""
    return np.einsum("...ij,...kj->...ki", matrix[..., :2, :2], points) + matrix[..., np.newaxis, :2, 2]


def to_mean_frame(keypoints: np.ndarray, mean_shape: np.ndarray, regime: str) -> np.ndarray:
    """The ``(3, 3)`` matrix taking a face's pixels to the mean shape's frame: the inverse of its fitted pose."""
    index = REGIME_POINTS[regime]
    return np.linalg.inv(similarity_matrix(*similarity_transform(mean_shape[index], keypoints[index])))


def sample_frame_transforms(model: SynthModel, rng: np.random.Generator, keypoints: np.ndarray,
                            complete: np.ndarray) -> np.ndarray:
    """``(N, 3, 3)`` matrices from each face's pixels to the 96x96 frame, at a pose of its regime sampled from
    ``model`` and redrawn until every keypoint lies ``FRAME_MARGIN`` inside the frame."""
    regimes = np.where(complete, "complete", "four_keypoint")
    fits = np.stack([to_mean_frame(k, model.mean_shape, r) for k, r in zip(keypoints, regimes)])
    transforms = np.empty_like(fits)
    todo = np.ones(len(keypoints), dtype=bool)
    for _ in range(MAX_POSE_ROUNDS):
        for regime in ("complete", "four_keypoint"):
            rows = np.flatnonzero(todo & (regimes == regime))
            pose = rng.multivariate_normal(model.pose_mean[regime], model.pose_cov[regime], size=len(rows))
            for row, (log_scale, angle, tx, ty) in zip(rows, pose):
                transforms[row] = similarity_matrix(np.exp(log_scale), angle, np.array([tx, ty])) @ fits[row]
        framed = transform_points(keypoints, transforms)
        todo = ~((framed >= FRAME_MARGIN) & (framed <= IMAGE_SIZE - 1 - FRAME_MARGIN)).all(axis=(1, 2))
        if not todo.any():
            return transforms
    rows = np.flatnonzero(todo)[:10].tolist()
    raise ValueError(f"faces {rows} fit the frame at none of {MAX_POSE_ROUNDS} sampled poses")


def antialias_sigma(scale: float) -> float:
    """Gaussian pre-blur (source px) before shrinking by ``scale``: brings a source's ~0.5 px blur to 0.5 / scale."""
    return 0.5 * float(np.sqrt(1.0 / scale**2 - 1.0)) if scale < 1.0 else 0.0


def outside_source_pixels(source_shape: tuple[int, int], matrix: np.ndarray) -> int:
    """How many frame pixels have their centre outside the source image under the warp ``matrix`` (source -> frame)."""
    back = np.linalg.inv(matrix)[:2]
    ys, xs = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE]
    x = back[0, 0] * xs + back[0, 1] * ys + back[0, 2]
    y = back[1, 0] * xs + back[1, 1] * ys + back[1, 2]
    height, width = source_shape
    return int(((x < -0.5) | (x > width - 0.5) | (y < -0.5) | (y > height - 0.5)).sum())


def warp_to_frame(image: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, int]:
    """A grey ``(H, W)`` uint8 image resampled once into the 96x96 frame by ``matrix`` (source -> frame, pixel-index
    convention both sides), antialiased when shrinking; pixels beyond the source repeat its border. Also returns
    how many frame pixels lie outside the source."""
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:2, :2]))))
    source = image.astype(np.float32)
    sigma = antialias_sigma(scale)
    if sigma > 0:
        source = cv2.GaussianBlur(source, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    framed = cv2.warpAffine(source, matrix[:2], (IMAGE_SIZE, IMAGE_SIZE), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    return np.clip(np.rint(framed), 0, 255).astype(np.uint8), outside_source_pixels(image.shape, matrix)


def eye_centres(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left and right eye centres ``(M, 2)`` (float64) of the rows ``(N, 15, 2)`` with both labelled."""
    left, right = keypoints[:, _LEFT_EYE], keypoints[:, _RIGHT_EYE]
    both = ~(np.isnan(left).any(axis=1) | np.isnan(right).any(axis=1))
    return left[both].astype(float), right[both].astype(float)


def framing_statistics(keypoints: np.ndarray) -> pd.DataFrame:
    """Mean, sd, 5th and 95th percentile of inter-pupil distance, both eye centres and head roll (degrees), over
    the rows ``(N, 15, 2)`` with both eye centres labelled."""
    left, right = eye_centres(keypoints)
    across = left - right
    quantities = {
        "inter-pupil distance (px)": np.hypot(across[:, 0], across[:, 1]),
        "left eye centre x (px)": left[:, 0],
        "left eye centre y (px)": left[:, 1],
        "right eye centre x (px)": right[:, 0],
        "right eye centre y (px)": right[:, 1],
        "roll (degrees)": np.degrees(np.arctan2(across[:, 1], across[:, 0])),
    }
    return pd.DataFrame(
        {name: [v.mean(), v.std(ddof=1), *np.percentile(v, [5, 95])] for name, v in quantities.items()},
        index=list(FRAMING_STATISTICS),
    ).T


def side_by_side(first: pd.DataFrame, second: pd.DataFrame, names: tuple[str, str]) -> pd.DataFrame:
    """Two :func:`framing_statistics` tables side by side (columns: statistic, then set)."""
    both = pd.concat({names[0]: first, names[1]: second}, axis=1)
    return both.swaplevel(axis=1)[pd.MultiIndex.from_product([FRAMING_STATISTICS, names])]


def compare_framing(converted: np.ndarray, reference: np.ndarray,
                    names: tuple[str, str] = ("converted", "kaggle")) -> pd.DataFrame:
    """:func:`framing_statistics` of two keypoint sets side by side (columns: statistic, then set)."""
    return side_by_side(framing_statistics(converted), framing_statistics(reference), names)


def kaggle_framing_record(keypoints: np.ndarray) -> dict:
    """What ``kaggle_framing.json`` holds for a label set ``(N, 15, 2)``: the source note, the row counts and
    :func:`framing_statistics` (quantity -> statistic -> value)."""
    statistics = framing_statistics(keypoints)
    return {
        "source": KAGGLE_FRAMING_SOURCE,
        "rows": len(keypoints),
        "rows_with_both_eyes": len(eye_centres(keypoints)[0]),
        "statistics": {name: {k: float(v) for k, v in row.items()} for name, row in statistics.iterrows()},
    }


def kaggle_framing_reference(path: str | Path = KAGGLE_FRAMING_PATH) -> pd.DataFrame:
    """:func:`framing_statistics` of the real Kaggle training labels, from the committed ``kaggle_framing.json``."""
    statistics = json.loads(Path(path).read_text())["statistics"]
    return pd.DataFrame.from_dict(statistics, orient="index")[list(FRAMING_STATISTICS)]


def framing_table(keypoints: np.ndarray, name: str = "this data") -> pd.DataFrame:
    """A data set's :func:`framing_statistics` beside the real Kaggle labels' (:func:`kaggle_framing_reference`),
    laid out like :func:`compare_framing` (columns: statistic, then ``name`` and ``kaggle``)."""
    return side_by_side(framing_statistics(keypoints), kaggle_framing_reference(), (name, "kaggle"))
