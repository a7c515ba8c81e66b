"""Keypoints on video files and a webcam: the photos' path frame by frame, with the faces tracked between frames.

A frame is searched by the detector every ``REDETECT_EVERY`` frames (and whenever no face is tracked), each face
framed from the detector's eye points (the photos' first pass); in between, each face is framed from its keypoints in
the frame before (the photos' second pass), so every frame costs one model call. All faces of a frame go to the model in one batch, called directly (no ``Model.predict`` overhead).
"""
from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from fkp_helpers.data.keypoints import KEYPOINT_NAMES
from fkp_helpers.evaluation.tta import PredictFn
from fkp_helpers.photos.detection import VIDEO_SMALLEST_FACE, FaceDetector, detect_faces
from fkp_helpers.photos.drawing import draw_faces
from fkp_helpers.photos.framing import frames_from_faces, frames_from_keypoints
from fkp_helpers.photos.prediction import predict_in_frames
from fkp_helpers.photos.reading import PhotoError, to_gray

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv"})
"""File endings read as video (by OpenCV) rather than as a photo."""
REDETECT_EVERY = 15
"""Frames between two searches for faces (new faces appear in the annotation within half a second at 30 fps)."""
MIN_EYE_DISTANCE = 4.0
"""A face whose predicted eyes are closer than this (px) cannot frame the next frame: it is dropped until a search."""


def is_video(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a video file (by its ending)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def boxes_of(keypoints: np.ndarray) -> np.ndarray:
    """Boxes ``(N, 4)`` x, y, w, h around keypoints ``(N, 15, 2)``, widened by a quarter on each side."""
    low, high = keypoints.min(axis=1), keypoints.max(axis=1)
    margin = 0.25 * (high - low)
    return np.concatenate([low - margin, high - low + 2 * margin], axis=1).reshape(-1, 4)


def trackable(keypoints: np.ndarray) -> np.ndarray:
    """The faces ``(N, 15, 2)`` whose eyes are far enough apart to frame the next frame."""
    keypoints = np.asarray(keypoints, dtype=np.float64).reshape(-1, 15, 2)
    eyes = keypoints[:, :2]  # left_eye_center, right_eye_center
    return keypoints[np.linalg.norm(eyes[:, 0] - eyes[:, 1], axis=1) >= MIN_EYE_DISTANCE]


class FaceTracker:
    """Keypoints of every face, frame after frame: detect, or follow the faces of the frame before."""

    def __init__(self, detector: FaceDetector, predict_fn: PredictFn, redetect_every: int = REDETECT_EVERY):
        self.detector, self.predict_fn, self.redetect_every = detector, predict_fn, redetect_every
        self.keypoints, self.count = np.zeros((0, 15, 2)), 0

    def __call__(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Boxes ``(N, 4)`` and keypoints ``(N, 15, 2)`` of the faces in one RGB frame, in its pixels."""
        gray = to_gray(rgb)
        if len(self.keypoints) and self.count % self.redetect_every:
            keypoints = self._predict(gray, frames_from_keypoints(self.keypoints))
        else:
            keypoints = self._predict(gray, frames_from_faces(detect_faces(rgb, self.detector, VIDEO_SMALLEST_FACE)))
        self.keypoints, self.count = trackable(keypoints), self.count + 1
        return boxes_of(keypoints), keypoints


    def _predict(self, gray: np.ndarray, frames: np.ndarray) -> np.ndarray:
        """Keypoints ``(N, 15, 2)`` predicted in ``frames`` ``(N, 2, 3)`` of a grey frame (faces with any non-finite
        keypoint left out)."""
        keypoints = predict_in_frames([gray], [frames], self.predict_fn, flip_tta=False)[0]
        return keypoints[np.isfinite(keypoints).all(axis=(1, 2))]


def frames_of(capture: cv2.VideoCapture) -> Iterator[np.ndarray]:
    """The RGB frames of an opened capture, until it ends."""
    while True:
        ok, bgr = capture.read()
        if not ok:
            return
        yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def open_video(path: Path) -> cv2.VideoCapture:
    """An opened capture of the video at ``path``; ``PhotoError`` if OpenCV cannot read a frame of it."""
    if not path.is_file():
        raise PhotoError(path, "no such file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened() or capture.get(cv2.CAP_PROP_FRAME_COUNT) == 0:
        capture.release()
        raise PhotoError(path, "not a video OpenCV can read")
    return capture


def csv_header() -> list[str]:
    """Columns of a video's keypoint CSV: one row per face per frame."""
    return ["frame", "time_s", "face", "box_x", "box_y", "box_w", "box_h",
            *[f"{name}_{axis}" for name in KEYPOINT_NAMES for axis in "xy"]]


def predict_video(path: Path, tracker: FaceTracker, out_dir: Path) -> dict[str, Path | int]:
    """Annotate every frame of the video at ``path``: writes ``<stem>.annotated.mp4`` and ``<stem>.keypoints.csv``
    (one row per face per frame) in ``out_dir``; refuses (``FileExistsError``) to overwrite either. Returns the
    files and the counts of frames and of face rows."""
    video_out, csv_out = out_dir / f"{path.stem}.annotated.mp4", out_dir / f"{path.stem}.keypoints.csv"
    for existing in (video_out, csv_out):
        if existing.exists():
            raise FileExistsError(f"{existing} exists; nothing was overwritten (choose another --out)")
    capture = open_video(path)
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    out_dir.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(video_out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    frames = rows = 0
    try:
        with open(csv_out, "x", newline="") as handle:
            table = csv.writer(handle)
            table.writerow(csv_header())
            for index, rgb in enumerate(frames_of(capture)):
                boxes, keypoints = tracker(rgb)
                writer.write(cv2.cvtColor(draw_faces(rgb, boxes, keypoints), cv2.COLOR_RGB2BGR))
                for face, (box, points) in enumerate(zip(boxes, keypoints)):
                    table.writerow([index, round(index / fps, 4), face, *np.round(box, 2), *np.round(points.ravel(), 2)])
                frames, rows = frames + 1, rows + len(boxes)
    finally:
        capture.release()
        writer.release()
    return {"video": video_out, "csv": csv_out, "frames": frames, "face_rows": rows}


def show_webcam(device: int, tracker: FaceTracker, window: str = "fkp keypoints (q or Esc quits)") -> int:
    """Show the annotated stream of camera ``device`` until q or Esc; returns the frames shown."""
    capture = cv2.VideoCapture(device)
    if not capture.isOpened():
        raise RuntimeError(f"no camera at index {device} (OpenCV could not open it)")
    shown = 0
    try:
        for rgb in frames_of(capture):
            boxes, keypoints = tracker(rgb)
            cv2.imshow(window, cv2.cvtColor(draw_faces(rgb, boxes, keypoints), cv2.COLOR_RGB2BGR))
            shown += 1
            if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                break
    finally:
        capture.release()
        cv2.destroyAllWindows()
    return shown
