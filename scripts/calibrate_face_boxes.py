"""Calibrate the face detector's eye points to the Kaggle framing on real faces.

Runs the detector (``photos.detection.detect_faces``, exactly as at prediction time) on the Udacity real faces in
``../shared/data/udacity-p1-faces/training`` (68 iBUG landmarks each; eye centre = mean of points 36-41 for the
person's right eye, 42-47 for the person's left), keeps the face whose box holds the midpoint between the eyes, and measures
where the eye centres fall in the frame of the detector's two eye points (``photos.framing.eye_axes``). The Kaggle mean eye centres come from
``../shared/data/kaggle-fkp-labels/training_keypoints.csv``. Writes only the derived numbers (never images) to
``fkp_helpers/photos/face_box_calibration.json``.

    python scripts/calibrate_face_boxes.py [--limit N]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fkp_helpers.data.kaggle_io import read_keypoint_labels, write_atomically
from fkp_helpers.data.keypoints import keypoint_index
from fkp_helpers.photos.calibration import CALIBRATION_PATH
from fkp_helpers.photos.detection import MODEL_FILE, default_detector, detect_faces
from fkp_helpers.photos.framing import eye_axes
from fkp_helpers.photos.reading import read_photo

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FACES = SHARED / "udacity-p1-faces"
KAGGLE_LABELS = SHARED / "kaggle-fkp-labels" / "training_keypoints.csv"
PERSONS_RIGHT_EYE, PERSONS_LEFT_EYE = slice(36, 42), slice(42, 48)


def udacity_eyes(limit: int | None) -> tuple[list[Path], np.ndarray]:
    """Image paths and eye centres ``(N, 2, 2)`` (person's left, person's right) of the Udacity training faces."""
    table = pd.read_csv(FACES / "training_frames_keypoints.csv", index_col=0)[:limit]
    points = table.to_numpy(dtype=np.float64).reshape(len(table), 68, 2)
    eyes = np.stack([points[:, PERSONS_LEFT_EYE].mean(axis=1), points[:, PERSONS_RIGHT_EYE].mean(axis=1)], axis=1)
    return [FACES / "training" / name for name in table.index], eyes


def face_index(boxes: np.ndarray, eyes: np.ndarray) -> int | None:
    """Index of the box holding the midpoint of the eyes (the one whose centre is nearest it), or None."""
    mid = eyes.mean(axis=0)
    inside = [i for i, b in enumerate(boxes) if b[0] <= mid[0] <= b[0] + b[2] and b[1] <= mid[1] <= b[1] + b[3]]
    if not inside:
        return None
    return min(inside, key=lambda i: float(np.hypot(*(boxes[i, :2] + boxes[i, 2:] / 2 - mid))))


def in_detector_frame(eyes: np.ndarray, detector_eyes: np.ndarray) -> np.ndarray:
    """Eye centres ``(2, 2)`` in the frame of the detector's eye points ``(2, 2)`` (``framing.eye_axes``)."""
    middle, along, across = (axis[0] for axis in eye_axes(detector_eyes))
    return np.stack([(eyes - middle) @ along, (eyes - middle) @ across], axis=1) / float(along @ along)


def measure(paths: list[Path], eyes: np.ndarray) -> dict:
    """Detection counts and the eye centres in the detector's eye frame ``(found, 2, 2)``."""
    detector = default_detector()
    ratios, extra, seconds = [], 0, 0.0
    for path, face_eyes in zip(paths, eyes):
        rgb = read_photo(path)
        start = time.perf_counter()
        faces = detect_faces(rgb, detector)
        seconds += time.perf_counter() - start
        index = face_index(faces.boxes, face_eyes)
        extra += len(faces) - (index is not None)
        if index is not None:
            ratios.append(in_detector_frame(face_eyes, faces.eyes[index]))
    ratios = np.array(ratios)
    return {"detector": MODEL_FILE, "faces": len(paths), "found": len(ratios), "extra_boxes": extra,
            "ms_per_photo": 1000 * seconds / len(paths), "ratios": ratios}


def frame_scatter_px(ratios: np.ndarray, kaggle_eyes: np.ndarray) -> float:
    """RMS distance (96x96 frame px) of the true eye centres from where the mean box fractions put them."""
    eye_distance = float(np.linalg.norm(ratios.mean(axis=0)[0] - ratios.mean(axis=0)[1]))
    frame_px_per_unit = float(np.linalg.norm(kaggle_eyes[0] - kaggle_eyes[1])) / eye_distance
    return float(np.sqrt(((ratios - ratios.mean(axis=0)) ** 2).sum(axis=2).mean()) * frame_px_per_unit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="use only the first N faces")
    args = parser.parse_args()
    labels = read_keypoint_labels(KAGGLE_LABELS)
    kaggle_eyes = np.stack([np.nanmean(labels[:, keypoint_index(name)], axis=0)
                            for name in ("left_eye_center", "right_eye_center")])
    paths, eyes = udacity_eyes(args.limit)
    chosen = measure(paths, eyes)
    chosen["eye_scatter_frame_px"] = frame_scatter_px(chosen["ratios"], kaggle_eyes)
    print(f"{MODEL_FILE}: found {chosen['found']}/{chosen['faces']}, {chosen['extra_boxes']} extra boxes, "
          f"{chosen['ms_per_photo']:.1f} ms/photo, eye scatter {chosen['eye_scatter_frame_px']:.2f} px in the 96 frame")
    mean_ratios = chosen["ratios"].mean(axis=0)
    payload = {
        "source": "scripts/calibrate_face_boxes.py on udacity-p1-faces/training and kaggle-fkp-labels",
        "detector": MODEL_FILE,
        "eye_centres_from_detector": {"left_eye_center": mean_ratios[0].round(5).tolist(),
                               "right_eye_center": mean_ratios[1].round(5).tolist()},
        "eye_centres_from_detector_std": {"left_eye_center": chosen["ratios"].std(axis=0)[0].round(5).tolist(),
                                   "right_eye_center": chosen["ratios"].std(axis=0)[1].round(5).tolist()},
        "kaggle_mean_eye_centres": {"left_eye_center": kaggle_eyes[0].astype(float).round(4).tolist(),
                                    "right_eye_center": kaggle_eyes[1].astype(float).round(4).tolist()},
        "detection": {key: (round(value, 3) if isinstance(value, float) else value)
                      for key, value in chosen.items() if key != "ratios"},
    }
    write_atomically(CALIBRATION_PATH, (json.dumps(payload, indent=1) + "\n").encode())
    print(f"wrote {CALIBRATION_PATH}")


if __name__ == "__main__":
    main()
