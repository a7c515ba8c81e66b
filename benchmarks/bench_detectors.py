"""Face detectors side by side: recall, false boxes and time of BlazeFace (``photos.detection``) and of the Haar
cascade that ``predict`` used before it, on faces whose position is known.

Three sets, each labelled: Udacity's test photos (650 real photos of people outside Udacity's training folder,
68 landmarks each; a face counts as found when a box holds both eye centres and is narrower than 5 eye distances),
notebook 05's photos (the astronaut and its hard cases), and composed frames: twelve 1024x768 photos with twelve real
faces each, 24 to 64 px wide, pasted on a photo of a coffee cup, and twenty 640x480 webcam-like frames with one face
200 px wide. Boxes matching no labelled face count as false (a photo may hold an unlabelled face, so this is an upper
bound). With ``--model``, also the keypoint error of the whole path (detect, frame, predict, re-frame, predict; no
flip TTA) on the test photos, against the 15 Kaggle keypoints made from the 68 landmarks. Writes
``fkp_helpers/photos/detector_comparison.json`` (shown by notebook 05). Run it on a quiet machine: times are medians over the photos.

    python benchmarks/bench_detectors.py [--model runs/<run>/models/<model>.keras]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from skimage import data  # noqa: E402

from fkp_helpers.data import PROJECT_ROOT, write_atomically  # noqa: E402
from fkp_helpers.data.landmarks68 import kaggle_keypoints_from_ibug68  # noqa: E402
from fkp_helpers.machine import describe_machine  # noqa: E402
from fkp_helpers.photos import detection  # noqa: E402
from fkp_helpers.photos.reading import read_photo, to_gray  # noqa: E402
from fkp_helpers.photos.walkthrough import COMPARISON_PATH, hard_cases  # noqa: E402

FACES = PROJECT_ROOT.parent / "shared" / "data" / "udacity-p1-faces"
Detector = Callable[[np.ndarray], detection.Faces]
HAAR_EYES_IN_BOX = np.array([[0.69003, 0.4014], [0.31717, 0.40429]])
"""Where the eye centres sat in a Haar box (person's left, person's right; fractions), as calibrated on the real faces."""


def haar_detector() -> Detector:
    """The Haar cascade exactly as ``predict`` ran it before BlazeFace (``haarcascade_frontalface_alt2``, photos
    searched at 256 to 1024 px on their longer side, padded by 15 %, histogram-equalised, 20 px minimum), its eye
    points placed in the box where the calibration put them."""
    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_alt2.xml"))

    def detect(rgb: np.ndarray) -> detection.Faces:
        gray = to_gray(rgb)
        longer = max(gray.shape)
        scale = 1024 / longer if longer > 1024 else max(1.0, 256 / longer)
        resized = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        pad = int(round(0.15 * min(resized.shape)))
        padded = cv2.copyMakeBorder(resized, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        found = cascade.detectMultiScale(cv2.equalizeHist(padded), scaleFactor=1.1, minNeighbors=5, minSize=(20, 20))
        boxes = np.asarray(found, dtype=np.float64).reshape(-1, 4)
        boxes[:, :2] -= pad
        boxes /= scale
        eyes = boxes[:, np.newaxis, :2] + HAAR_EYES_IN_BOX * boxes[:, np.newaxis, 2:]
        return detection.sorted_faces(np.c_[boxes, eyes.reshape(-1, 4)])

    return detect


def detectors() -> dict[str, Detector]:
    """The detectors compared: Haar (before), BlazeFace as photos use it, BlazeFace as video frames use it."""
    blaze = detection.default_detector()
    return {"haar (before)": haar_detector(),
            "blazeface, photos": lambda rgb: detection.detect_faces(rgb, blaze),
            "blazeface, video": lambda rgb: detection.detect_faces(rgb, blaze, detection.VIDEO_SMALLEST_FACE)}


def holds(box: np.ndarray, eyes: np.ndarray) -> bool:
    """Whether ``box`` holds both eye centres ``(2, 2)`` and is narrower than 5 eye distances."""
    x, y, w, h = box
    inside = (eyes[:, 0] >= x).all() and (eyes[:, 0] <= x + w).all() and (eyes[:, 1] >= y).all() and (eyes[:, 1] <= y + h).all()
    return bool(inside and w < 5 * np.linalg.norm(eyes[0] - eyes[1]))


def score(detect: Detector, photos: list[np.ndarray], eyes: list[np.ndarray]) -> dict:
    """Faces found, false boxes and the median ms per photo; ``eyes[i]`` is ``(faces, 2, 2)``."""
    found = false = 0
    times = []
    for rgb, photo_eyes in zip(photos, eyes):
        start = time.perf_counter()
        boxes = detect(rgb).boxes
        times.append(time.perf_counter() - start)
        matched = [next((i for i, box in enumerate(boxes) if holds(box, face)), None) for face in photo_eyes]
        found += sum(m is not None for m in matched)
        false += len(boxes) - len({m for m in matched if m is not None})
    return {"faces": int(sum(len(e) for e in eyes)), "found": found, "false_boxes": false,
            "ms_per_photo": round(1000 * float(np.median(times)), 2)}


def test_photos() -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Udacity's test photos, their eye centres ``(1, 2, 2)`` each and their 68 landmarks ``(N, 68, 2)``."""
    table = pd.read_csv(FACES / "test_frames_keypoints.csv", index_col=0)
    points = table.to_numpy(dtype=np.float64).reshape(len(table), 68, 2)
    eyes = np.stack([points[:, 42:48].mean(axis=1), points[:, 36:42].mean(axis=1)], axis=1)
    return [read_photo(FACES / "test" / name) for name in table.index], list(eyes[:, np.newaxis]), points


def paste(canvas: np.ndarray, rgb: np.ndarray, points: np.ndarray, width: float, corner: tuple[int, int]) -> np.ndarray:
    """Paste the face of ``rgb`` (landmarks ``points``), scaled to ``width`` px, at ``corner``; its eyes ``(2, 2)``."""
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.3 * (high - low)
    x0, y0 = np.maximum(low - margin, 0).astype(int)
    x1, y1 = (high + margin).astype(int)
    scale = width / (high - low)[0]
    face = cv2.resize(rgb[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = min(face.shape[0], canvas.shape[0] - corner[1]), min(face.shape[1], canvas.shape[1] - corner[0])
    canvas[corner[1]:corner[1] + h, corner[0]:corner[0] + w] = face[:h, :w]
    eyes = np.stack([points[42:48].mean(axis=0), points[36:42].mean(axis=0)])
    return (eyes - [x0, y0]) * scale + corner


def composed_frames(photos: list[np.ndarray], points: np.ndarray) -> dict[str, tuple[list, list]]:
    """Group photos of small faces and webcam-like frames, made from the test photos (seeded)."""
    rng = np.random.default_rng(0)
    background = cv2.resize(data.coffee(), (1024, 768), interpolation=cv2.INTER_AREA)
    groups, group_eyes = [], []
    for k in range(12):
        canvas, eyes = background.copy(), []
        for j in range(12):
            i = int(rng.integers(len(photos)))
            eyes.append(paste(canvas, photos[i], points[i], (24, 32, 48, 64)[k % 4], ((j % 4) * 256 + 40, (j // 4) * 256 + 40)))
        groups.append(canvas)
        group_eyes.append(np.array(eyes))
    webcams, webcam_eyes = [], []
    for _ in range(20):
        i = int(rng.integers(len(photos)))
        canvas = cv2.resize(data.coffee(), (640, 480), interpolation=cv2.INTER_AREA)
        webcam_eyes.append(paste(canvas, photos[i], points[i], 200, (200, 120))[np.newaxis])
        webcams.append(canvas)
    return {"12 group photos 1024x768, faces 24-64 px": (groups, group_eyes),
            "20 webcam frames 640x480, one face 200 px": (webcams, webcam_eyes)}


def notebook05_photos() -> dict[str, np.ndarray]:
    """The astronaut and its hard cases, as notebook 05 shows them."""
    return hard_cases(data.astronaut())


def keypoint_error(model_path: Path, detect: Detector, photos: list[np.ndarray], points: np.ndarray) -> dict:
    """RMSE (px, in the photos) of the whole path's 15 keypoints on the faces the detector found, no flip TTA."""
    from fkp_helpers.photos import load_keypoint_model, locate_keypoints, model_predict_fn

    predict_fn = model_predict_fn(load_keypoint_model(model_path))
    errors = []
    for rgb, landmarks in zip(photos, points):
        truth = kaggle_keypoints_from_ibug68(landmarks[np.newaxis])[0]
        eyes = np.stack([landmarks[42:48].mean(axis=0), landmarks[36:42].mean(axis=0)])
        faces = detect(rgb)
        match = [i for i, box in enumerate(faces.boxes) if holds(box, eyes)]
        if match:
            face = detection.Faces(faces.boxes[match[:1]], faces.eyes[match[:1]])
            found = locate_keypoints([to_gray(rgb)], [face], predict_fn, flip_tta=False)[0][0]
            errors.append(((found - truth) ** 2).sum(axis=1).mean())
    return {"faces": len(errors), "rmse_px": round(float(np.sqrt(np.mean(errors))), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="also score the whole path's keypoints with this model")
    args = parser.parse_args()
    print(f"machine: {describe_machine()}")
    photos, eyes, points = test_photos()
    sets = {"Udacity test photos (650, one face each)": (photos, eyes), **composed_frames(photos, points)}
    cases = notebook05_photos()
    rows, found_in_cases = [], {}
    for name, detect in detectors().items():
        for set_name, (set_photos, set_eyes) in sets.items():
            rows.append({"detector": name, "photos": set_name, **score(detect, set_photos, set_eyes)})
            print(f"{name:18s} {set_name:45s} {rows[-1]}", flush=True)
        found_in_cases[name] = {case: len(detect(rgb)) for case, rgb in cases.items()}
        print(f"{name:18s} notebook 05's photos, faces found: {found_in_cases[name]}", flush=True)
    record = {"machine": describe_machine(), "command": "python benchmarks/bench_detectors.py", "sets": rows,
              "notebook05_faces_found": found_in_cases}
    if args.model:
        record["keypoint_error"] = {"model": args.model.name, **{
            name: keypoint_error(args.model, detect, photos, points)
            for name, detect in detectors().items() if name != "blazeface, video"}}
        print(f"keypoints on the test photos: {record['keypoint_error']}")
    write_atomically(COMPARISON_PATH, (json.dumps(record, indent=1) + "\n").encode())
    print(f"wrote {COMPARISON_PATH}")


if __name__ == "__main__":
    main()
