"""Face detection: the astronaut, several real faces in one canvas (scaled, rotated, mirrored), borders, sizes."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from fkp_helpers.photos.detection import (
    MAX_DETECTION_SIDE,
    PhotoTooSmallError,
    detect_faces,
    detection_scale,
    sorted_boxes,
)
from fkp_helpers.photos.reading import to_gray

from .conftest import blank_canvas, contains, four_faces, paste


def _matched(boxes: np.ndarray, eyes: list[np.ndarray]) -> list[bool]:
    return [any(contains(box, face_eyes.mean(axis=0)) for box in boxes) for face_eyes in eyes]


def test_astronaut_face_is_found():
    boxes = detect_faces(to_gray(data.astronaut()))
    assert len(boxes) == 1
    assert contains(boxes[0], np.array([220.0, 115.0]))  # between her eyes


def test_many_faces_scaled_rotated_mirrored_are_found_and_sorted(real_faces):
    canvas, eyes = four_faces(real_faces)
    boxes = detect_faces(canvas)
    assert all(_matched(boxes, eyes))
    assert len(boxes) == 4 and np.all(np.diff(boxes[:, 0]) > 0)


def test_face_cut_by_the_border_is_found(real_faces):
    canvas = blank_canvas(300, 300)
    eyes = paste(canvas, real_faces[0], 60, (40, 150))  # a fifth of the face is outside the photo
    boxes = detect_faces(canvas)
    assert all(_matched(boxes, [eyes])) and boxes[0, 0] < 0


def test_huge_photo_is_searched_reduced_and_boxes_scaled_back(real_faces):
    canvas = blank_canvas(2400, 3600)
    eyes = paste(canvas, real_faces[0], 300, (1500, 1100))
    assert detection_scale(canvas.shape) == pytest.approx(MAX_DETECTION_SIDE / 3600)
    boxes = detect_faces(canvas)
    assert all(_matched(boxes, [eyes])) and boxes[0, 2] > 500


def test_small_photo_is_enlarged(real_faces):
    small = cv2.resize(real_faces[1].gray, (64, 64), interpolation=cv2.INTER_AREA)
    assert detection_scale(small.shape) == 4.0
    boxes = detect_faces(small)
    assert all(_matched(boxes, [real_faces[1].eyes * 64 / real_faces[1].gray.shape[0]]))


def test_tiny_photo_is_refused_with_its_size():
    with pytest.raises(PhotoTooSmallError, match="16x20 px"):
        detect_faces(np.zeros((20, 16), dtype=np.uint8))


def test_no_face_gives_no_box():
    assert detect_faces(blank_canvas(200, 300)).shape == (0, 4)


def test_sorted_boxes_left_to_right_then_top_to_bottom():
    boxes = sorted_boxes(np.array([[50, 10, 5, 5], [10, 80, 5, 5], [10, 20, 5, 5]]))
    np.testing.assert_array_equal(boxes[:, :2], [[10, 20], [10, 80], [50, 10]])
