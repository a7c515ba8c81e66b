"""Calibrate the Haar face box to the Kaggle framing on real faces, and compare OpenCV's frontal-face cascades.

Runs each cascade (``photos.detection.detect_faces``, exactly as at prediction time) on the Udacity real faces in
``../shared/data/udacity-p1-faces/training`` (68 iBUG landmarks each; eye centre = mean of points 36-41 for the
person's right eye, 42-47 for the person's left), keeps the box holding the midpoint between the eyes, and measures
where the eye centres fall inside it as fractions of the box size. The Kaggle mean eye centres come from
``../shared/data/kaggle-fkp-labels/training_keypoints.csv``. Writes only the derived numbers (never images) to
``fkp_helpers/photos/haar_calibration.json``.

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
from fkp_helpers.photos.detection import CASCADE_FILE, detect_faces, load_cascade
from fkp_helpers.photos.reading import read_photo, to_gray

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FACES = SHARED / "udacity-p1-faces"
KAGGLE_LABELS = SHARED / "kaggle-fkp-labels" / "training_keypoints.csv"
CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml")
PERSONS_RIGHT_EYE, PERSONS_LEFT_EYE = slice(36, 42), slice(42, 48)


def udacity_eyes(limit: int | None) -> tuple[list[Path], np.ndarray]:
    """Image paths and eye centres ``(N, 2, 2)`` (person's left, person's right) of the Udacity training faces."""
    table = pd.read_csv(FACES / "training_frames_keypoints.csv", index_col=0)[:limit]
    points = table.to_numpy(dtype=np.float64).reshape(len(table), 68, 2)
    eyes = np.stack([points[:, PERSONS_LEFT_EYE].mean(axis=1), points[:, PERSONS_RIGHT_EYE].mean(axis=1)], axis=1)
    return [FACES / "training" / name for name in table.index], eyes


def face_box(boxes: np.ndarray, eyes: np.ndarray) -> np.ndarray | None:
    """The box holding the midpoint of the eyes (the one whose centre is nearest it), or None."""
    mid = eyes.mean(axis=0)
    inside = [b for b in boxes if b[0] <= mid[0] <= b[0] + b[2] and b[1] <= mid[1] <= b[1] + b[3]]
    if not inside:
        return None
    return min(inside, key=lambda b: float(np.hypot(*(b[:2] + b[2:] / 2 - mid))))


def measure(cascade_name: str, paths: list[Path], eyes: np.ndarray) -> dict:
    """Detection counts and the eye centres as box fractions ``(found, 2, 2)`` for one cascade."""
    cascade = load_cascade(cascade_name)
    ratios, extra, seconds = [], 0, 0.0
    for path, face_eyes in zip(paths, eyes):
        gray = to_gray(read_photo(path))
        start = time.perf_counter()
        boxes = detect_faces(gray, cascade)
        seconds += time.perf_counter() - start
        box = face_box(boxes, face_eyes)
        extra += len(boxes) - (box is not None)
        if box is not None:
            ratios.append((face_eyes - box[:2]) / box[2:])
    ratios = np.array(ratios)
    return {"cascade": cascade_name, "faces": len(paths), "found": len(ratios), "extra_boxes": extra,
            "ms_per_photo": 1000 * seconds / len(paths), "ratios": ratios}


def frame_scatter_px(ratios: np.ndarray, kaggle_eyes: np.ndarray) -> float:
    """RMS distance (96x96 frame px) of the true eye centres from where the mean box fractions put them."""
    eye_distance_in_box = float(np.linalg.norm(ratios.mean(axis=0)[0] - ratios.mean(axis=0)[1]))
    frame_px_per_box = float(np.linalg.norm(kaggle_eyes[0] - kaggle_eyes[1])) / eye_distance_in_box
    return float(np.sqrt(((ratios - ratios.mean(axis=0)) ** 2).sum(axis=2).mean()) * frame_px_per_box)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="use only the first N faces")
    args = parser.parse_args()
    labels = read_keypoint_labels(KAGGLE_LABELS)
    kaggle_eyes = np.stack([np.nanmean(labels[:, keypoint_index(name)], axis=0)
                            for name in ("left_eye_center", "right_eye_center")])
    paths, eyes = udacity_eyes(args.limit)
    comparison = []
    for name in CASCADES:
        row = measure(name, paths, eyes)
        row["eye_scatter_frame_px"] = frame_scatter_px(row["ratios"], kaggle_eyes)
        comparison.append(row)
        print(f"{name}: found {row['found']}/{row['faces']}, {row['extra_boxes']} extra boxes, "
              f"{row['ms_per_photo']:.1f} ms/photo, eye scatter {row['eye_scatter_frame_px']:.2f} px in the 96 frame")
    chosen = next(row for row in comparison if row["cascade"] == CASCADE_FILE)
    mean_ratios = chosen["ratios"].mean(axis=0)
    payload = {
        "source": "scripts/calibrate_face_boxes.py on udacity-p1-faces/training and kaggle-fkp-labels",
        "cascade": CASCADE_FILE,
        "eye_centres_in_box": {"left_eye_center": mean_ratios[0].round(5).tolist(),
                               "right_eye_center": mean_ratios[1].round(5).tolist()},
        "eye_centres_in_box_std": {"left_eye_center": chosen["ratios"].std(axis=0)[0].round(5).tolist(),
                                   "right_eye_center": chosen["ratios"].std(axis=0)[1].round(5).tolist()},
        "kaggle_mean_eye_centres": {"left_eye_center": kaggle_eyes[0].astype(float).round(4).tolist(),
                                    "right_eye_center": kaggle_eyes[1].astype(float).round(4).tolist()},
        "cascades": [{key: (round(value, 3) if isinstance(value, float) else value)
                      for key, value in row.items() if key != "ratios"} for row in comparison],
    }
    write_atomically(CALIBRATION_PATH, (json.dumps(payload, indent=1) + "\n").encode())
    print(f"wrote {CALIBRATION_PATH}")


if __name__ == "__main__":
    main()
