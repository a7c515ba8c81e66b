"""Framing a face like the Kaggle training images: a similarity transform from the photo to a 96x96 crop.

A frame is a ``(2, 3)`` affine matrix mapping photo pixels to frame pixels (both in the pixel-index convention, the
one ``cv2.warpAffine`` uses) so that the face's eye centres land on Kaggle's mean eye centres: level eyes, scale
from the eye distance, centre from the eyes. The first frame takes its eye centres from the detector box
(its eye points, corrected by ``calibration``), the second from the model's first prediction.
"""
from __future__ import annotations

import cv2
import numpy as np

from fkp_helpers.data.keypoints import IMAGE_SIZE, keypoint_index
from fkp_helpers.data.shapes import similarity_transform
from fkp_helpers.photos.calibration import eye_centres_from_detector, kaggle_eye_centres
from fkp_helpers.photos.detection import Faces

EYES = np.array([keypoint_index("left_eye_center"), keypoint_index("right_eye_center")])


def similarity_matrix(scale: float, angle: float, translation: np.ndarray) -> np.ndarray:
    """The ``(2, 3)`` affine matrix of ``scale * R(angle) @ p + translation``."""
    cos, sin = scale * np.cos(angle), scale * np.sin(angle)
    return np.array([[cos, -sin, translation[0]], [sin, cos, translation[1]]])


def frames_from_eyes(eyes: np.ndarray) -> np.ndarray:
    """Frames ``(N, 2, 3)`` for eye centres ``(N, 2, 2)`` (person's left, person's right) in photo pixels."""
    target = kaggle_eye_centres()
    return np.array([similarity_matrix(*similarity_transform(face_eyes, target)) for face_eyes in eyes]).reshape(-1, 2, 3)


def eye_axes(eyes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For eye points ``(N, 2, 2)`` (person's left, person's right): their midpoints ``(N, 2)`` and the axes
    ``(N, 2)`` along (right to left point) and across the eye line, each as long as the eye distance."""
    eyes = np.asarray(eyes, dtype=np.float64).reshape(-1, 2, 2)
    along = eyes[:, 0] - eyes[:, 1]
    return eyes.mean(axis=1), along, np.stack([-along[:, 1], along[:, 0]], axis=1)


def eyes_from_detector(eyes: np.ndarray) -> np.ndarray:
    """Expected eye centres ``(N, 2, 2)`` (as the landmarks place them) from the detector's eye points ``(N, 2, 2)``."""
    middle, along, across = eye_axes(eyes)
    offsets = eye_centres_from_detector()
    return middle[:, np.newaxis] + offsets[np.newaxis, :, :1] * along[:, np.newaxis] + offsets[np.newaxis, :, 1:] * across[:, np.newaxis]


def frames_from_faces(faces: Faces) -> np.ndarray:
    """First-pass frames ``(N, 2, 3)`` from a photo's detected faces."""
    return frames_from_eyes(eyes_from_detector(faces.eyes))


def frames_from_keypoints(keypoints: np.ndarray) -> np.ndarray:
    """Second-pass frames ``(N, 2, 3)`` from keypoints ``(N, 15, 2)`` in photo pixels (their eye centres)."""
    return frames_from_eyes(np.asarray(keypoints, dtype=np.float64)[:, EYES])


def map_points(points: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Points ``(N, K, 2)`` moved by frames ``(N, 2, 3)``: photo pixels to frame pixels."""
    frames = np.asarray(frames, dtype=np.float64)
    return np.einsum("nij,nkj->nki", frames[:, :, :2], points) + frames[:, np.newaxis, :, 2]


def inverse_frames(frames: np.ndarray) -> np.ndarray:
    """Inverse matrices ``(N, 2, 3)``: frame pixels back to photo pixels."""
    return np.array([cv2.invertAffineTransform(frame) for frame in np.asarray(frames, dtype=np.float64)]).reshape(-1, 2, 3)


def to_photo(points: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Points ``(N, K, 2)`` in frame pixels back to photo pixels (the inverse similarity)."""
    return map_points(points, inverse_frames(frames))


def pyramid_level(frame: np.ndarray) -> int:
    """How many halvings of the photo (``cv2.pyrDown``) keep the remaining reduction under 2x, against aliasing."""
    scale = float(np.hypot(*frame[:, 0]))
    return max(0, int(np.floor(np.log2(1.0 / scale)))) if scale > 0 else 0


def crop_faces(gray: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """96x96 uint8 crops ``(N, 96, 96)`` of a grey photo through frames ``(N, 2, 3)``; edge pixels extend the border."""
    pyramid = [gray]
    crops = []
    for frame in np.asarray(frames, dtype=np.float64):
        level = pyramid_level(frame)
        while len(pyramid) <= level and min(pyramid[-1].shape) > 1:
            pyramid.append(cv2.pyrDown(pyramid[-1]))  # level pixel j has its centre on photo pixel 2**level * j
        level = min(level, len(pyramid) - 1)
        on_level = frame * np.array([2.0**level, 2.0**level, 1.0])
        crops.append(cv2.warpAffine(pyramid[level], on_level, (IMAGE_SIZE, IMAGE_SIZE), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE))
    return np.array(crops, dtype=np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
