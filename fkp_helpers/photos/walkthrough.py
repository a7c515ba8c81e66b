"""What notebook 05 shows: every step on one photo, and the cases where the steps fail."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fkp_helpers.data.keypoints import N_KEYPOINTS, keypoint_index
from fkp_helpers.evaluation.tta import PredictFn
from fkp_helpers.photos.detection import detect_faces
from fkp_helpers.photos.drawing import draw_faces
from fkp_helpers.photos.framing import crop_faces, frames_from_faces, frames_from_keypoints, map_points
from fkp_helpers.photos.prediction import locate_keypoints, predict_in_frames
from fkp_helpers.photos.reading import to_gray

EYES = [keypoint_index("left_eye_center"), keypoint_index("right_eye_center")]
COMPARISON_PATH = Path(__file__).with_name("detector_comparison.json")
"""The record of ``benchmarks/bench_detectors.py``: BlazeFace against the Haar cascade it replaced."""
PHOTO_DPI = 72
"""Photographs are shown at screen resolution, which keeps a notebook's stored images small; ``save_figure`` still
writes them at its own, higher resolution."""


@dataclass(frozen=True)
class PhotoSteps:
    """One photo through the pipeline: boxes, both passes' crops and keypoints (in crop and photo pixels)."""

    rgb: np.ndarray
    boxes: np.ndarray
    first_crops: np.ndarray
    first_in_crop: np.ndarray
    second_crops: np.ndarray
    second_in_crop: np.ndarray
    keypoints: np.ndarray
    """Final keypoints ``(N, 15, 2)`` in photo pixels (second pass)."""


def walk_through(rgb: np.ndarray, predict_fn: PredictFn, flip_tta: bool = True) -> PhotoSteps:
    """Detect, frame from the box, predict, re-frame from the eyes, predict again; keep every intermediate."""
    gray = to_gray(rgb)
    faces = detect_faces(rgb)
    first_frames = frames_from_faces(faces)
    first = predict_in_frames([gray], [first_frames], predict_fn, flip_tta)[0]
    second_frames = frames_from_keypoints(first)
    final = predict_in_frames([gray], [second_frames], predict_fn, flip_tta)[0]
    return PhotoSteps(rgb, faces.boxes, crop_faces(gray, first_frames), map_points(first, first_frames),
                      crop_faces(gray, second_frames), map_points(final, second_frames), final)


def eye_line_angle_deg(keypoints: np.ndarray) -> np.ndarray:
    """Angle of the line from the person's right eye to the left eye, degrees (0: level), per face."""
    left, right = keypoints[:, EYES[0]], keypoints[:, EYES[1]]
    return np.degrees(np.arctan2(left[:, 1] - right[:, 1], left[:, 0] - right[:, 0]))


def hard_cases(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """The photo as it is and in conditions that break face pipelines: small, rolled, occluded, dark, mirrored."""
    height, width = rgb.shape[:2]
    small = np.full_like(rgb, 128)
    shrunk = cv2.resize(rgb, (width // 6, height // 6), interpolation=cv2.INTER_AREA)
    small[: shrunk.shape[0], : shrunk.shape[1]] = shrunk
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), 50, 1.0)
    rolled = cv2.warpAffine(rgb, rotation, (width, height), borderMode=cv2.BORDER_REFLECT)
    occluded = rgb.copy()
    for x, y, w, h in detect_faces(rgb).boxes:
        occluded[int(y + 0.25 * h): int(y + 0.5 * h), int(x): int(x + w)] = 0
    dark = (rgb.astype(np.float32) * 0.25).astype(np.uint8)
    return {"as it is": rgb, "mirrored": rgb[:, ::-1].copy(), "small face (1/6 size)": small,
            "rolled 50 degrees": rolled, "eyes covered": occluded, "dark (1/4 light)": dark}


def faces_and_keypoints(rgb: np.ndarray, predict_fn: PredictFn) -> tuple[np.ndarray, np.ndarray]:
    """Face boxes ``(N, 4)`` and final keypoints ``(N, 15, 2)`` in photo pixels (none found: empty arrays)."""
    gray = to_gray(rgb)
    faces = detect_faces(rgb)
    if not len(faces):
        return faces.boxes, np.zeros((0, N_KEYPOINTS, 2))
    return faces.boxes, locate_keypoints([gray], [faces], predict_fn)[0]


def hard_case_table(cases: dict[str, np.ndarray], predict_fn: PredictFn) -> pd.DataFrame:
    """Per case: faces found, and for the first face its width and the eye-line angle after the second pass."""
    rows = []
    for name, rgb in cases.items():
        boxes, keypoints = faces_and_keypoints(rgb, predict_fn)
        found = len(boxes) > 0
        rows.append({"case": name, "faces found": len(boxes),
                     "face width (px)": float(boxes[0, 2]) if found else np.nan,
                     "eye line (degrees)": float(eye_line_angle_deg(keypoints)[0]) if found else np.nan})
    return pd.DataFrame(rows).set_index("case")


def annotated_grid(cases: dict[str, np.ndarray], predict_fn: PredictFn, columns: int = 3) -> matplotlib.figure.Figure:
    """Each case's photo with its detected faces and keypoints drawn (an empty photo means no face was found)."""
    rows = -(-len(cases) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.6 * rows), dpi=PHOTO_DPI, squeeze=False)
    for ax, (name, rgb) in zip(axes.ravel(), cases.items()):
        boxes, keypoints = faces_and_keypoints(rgb, predict_fn)
        ax.imshow(draw_faces(rgb, boxes, keypoints))
        ax.set_title(f"{name}: {len(boxes)} face(s)", fontsize=9)
    for ax in axes.ravel():
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def photo_figure(rgb: np.ndarray, title: str, size: float = 6.0) -> matplotlib.figure.Figure:
    """One photograph (e.g. ``draw_faces``'s annotated copy) with a title, at ``PHOTO_DPI``."""
    fig, ax = plt.subplots(figsize=(size, size), dpi=PHOTO_DPI)
    ax.imshow(rgb)
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    return fig


def detector_comparison() -> tuple[str, pd.DataFrame]:
    """The detectors' benchmark record: the machine it ran on, and faces found, false boxes and median ms per photo
    for each detector and set of photos."""
    record = json.loads(COMPARISON_PATH.read_text())
    return record["machine"], pd.DataFrame(record["sets"]).set_index(["photos", "detector"]).sort_index()
