"""Face detection with OpenCV's Haar cascade for frontal faces, shipped with opencv-python (no download).

``haarcascade_frontalface_alt2`` rather than ``_default``: on the 2925 real faces of the Udacity set
(``scripts/calibrate_face_boxes.py``, numbers in ``haar_calibration.json``) it finds slightly fewer faces (2795 vs
2872) but makes a third of the false boxes (43 vs 148), and the eye centres scatter less inside its boxes (3.99 vs
5.03 px RMS in the 96x96 frame), so the first framing is closer and fewer non-faces reach the model.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

CASCADE_FILE = "haarcascade_frontalface_alt2.xml"
MAX_DETECTION_SIDE = 1024
"""Photos whose longest side is larger are searched on a reduced copy (boxes are scaled back)."""
MIN_DETECTION_SIDE = 256
"""Photos whose longest side is smaller are searched on an enlarged copy, so small faces reach the 20 px window."""
MIN_PHOTO_SIDE = 24
"""Photos whose shorter side is smaller are refused: too few pixels for a face."""
BORDER_FRACTION = 0.15
"""The photo is padded by this fraction of its shorter side (edge pixels repeated), so faces cut by the border are found."""


class PhotoTooSmallError(ValueError):
    """A photo has too few pixels to hold a detectable face."""


def load_cascade(name: str = CASCADE_FILE) -> cv2.CascadeClassifier:
    """One of the Haar cascades shipped in ``cv2.data.haarcascades``."""
    path = Path(cv2.data.haarcascades) / name
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise FileNotFoundError(f"OpenCV could not load the cascade {path}")
    return cascade


def detection_scale(shape: tuple[int, ...]) -> float:
    """Factor by which a photo of ``shape`` is resized before the search; raises ``PhotoTooSmallError`` if tiny."""
    shorter, longer = min(shape[:2]), max(shape[:2])
    if shorter < MIN_PHOTO_SIDE:
        raise PhotoTooSmallError(f"the photo is {shape[1]}x{shape[0]} px; faces need at least {MIN_PHOTO_SIDE} px each way")
    if longer > MAX_DETECTION_SIDE:
        return MAX_DETECTION_SIDE / longer
    return max(1.0, MIN_DETECTION_SIDE / longer)


def sorted_boxes(boxes: np.ndarray) -> np.ndarray:
    """Boxes ``(N, 4)`` ``x, y, w, h`` sorted left to right, then top to bottom."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return boxes[np.lexsort((boxes[:, 1], boxes[:, 0]))]


def detect_faces(gray: np.ndarray, cascade: cv2.CascadeClassifier | None = None, min_neighbors: int = 5) -> np.ndarray:
    """Face boxes ``(N, 4)`` float ``x, y, w, h`` in the photo's pixels (``x, y``: top-left corner), sorted."""
    cascade = load_cascade() if cascade is None else cascade
    scale = detection_scale(gray.shape)
    resized = gray if scale == 1.0 else cv2.resize(
        gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    pad = int(round(BORDER_FRACTION * min(resized.shape)))
    padded = cv2.copyMakeBorder(resized, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    found = cascade.detectMultiScale(cv2.equalizeHist(padded), scaleFactor=1.1, minNeighbors=min_neighbors, minSize=(20, 20))
    boxes = np.asarray(found, dtype=np.float64).reshape(-1, 4)
    boxes[:, :2] -= pad
    return sorted_boxes(boxes / scale)
