"""Face detection (BlazeFace short-range): the astronaut, several real faces in one canvas (scaled, rotated, mirrored),
borders, the window pyramid on huge and small photos, and the model's anchors and outputs."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from fkp_helpers.photos.detection import (
    INPUT_SIDE,
    MIN_PHOTO_SIDE,
    PHOTO_SMALLEST_FACE,
    VIDEO_SMALLEST_FACE,
    Faces,
    PhotoTooSmallError,
    anchors,
    default_detector,
    detect_faces,
    level_windows,
    model_path,
    pyramid_sides,
    sorted_faces,
)
from fkp_helpers.photos.reading import to_gray

from .conftest import blank_canvas, contains, four_faces, paste

ASTRONAUT_EYES = np.array([[246.0, 102.0], [203.0, 101.0]])
"""The astronaut's pupils (person's left, person's right), read off the photo by eye to about a pixel."""


def _matched(boxes: np.ndarray, eyes: list[np.ndarray]) -> list[bool]:
    return [any(contains(box, face_eyes.mean(axis=0)) for box in boxes) for face_eyes in eyes]


def _eye_errors(found: np.ndarray, eyes: np.ndarray) -> np.ndarray:
    """Distances ``(N, 2)`` from the detector's eye points to the true eye centres, in eye distances."""
    eyes = np.asarray(eyes, dtype=np.float64).reshape(-1, 2, 2)
    return np.linalg.norm(found - eyes, axis=2) / np.linalg.norm(eyes[:, 0] - eyes[:, 1], axis=1)[:, np.newaxis]


class CountingDetector:
    """The real detector, recording the shape of every batch of windows it is given."""

    def __init__(self):
        self.batches: list[tuple[int, ...]] = []

    def __call__(self, windows: np.ndarray):
        self.batches.append(np.shape(windows))
        return default_detector()(windows)


@pytest.mark.parametrize("colour", ["rgb", "grey"])
def test_astronaut_face_is_found_with_eye_points_on_her_eyes(colour):
    photo = data.astronaut() if colour == "rgb" else to_gray(data.astronaut())
    faces = detect_faces(photo)
    assert isinstance(faces, Faces) and len(faces) == 1
    assert faces.boxes.shape == (1, 4) and faces.eyes.shape == (1, 2, 2)
    assert contains(faces.boxes[0], np.array([220.0, 115.0]))  # between her eyes
    assert 80 < faces.boxes[0, 2] < 130 and faces.boxes[0, 2] == pytest.approx(faces.boxes[0, 3], rel=0.02)
    assert np.linalg.norm(faces.eyes[0] - ASTRONAUT_EYES, axis=1).max() < 5, "within 5 px of her pupils (43 px apart)"


def test_many_faces_scaled_rotated_mirrored_are_found_and_sorted(real_faces):
    canvas, eyes = four_faces(real_faces)
    faces = detect_faces(canvas)
    assert all(_matched(faces.boxes, eyes))
    assert len(faces) == 4 and np.all(np.diff(faces.boxes[:, 0]) > 0)
    assert np.all(faces.eyes[:, 0, 0] > faces.eyes[:, 1, 0]), "the person's left eye point is on the image's right"
    assert _eye_errors(faces.eyes, eyes).max() < 0.2, "each eye point within a fifth of the eye distance (eyes 30-60 px apart)"


def test_face_cut_by_the_border_is_found(real_faces):
    canvas = blank_canvas(300, 300)
    eyes = paste(canvas, real_faces[0], 60, (40, 150))  # a fifth of the face is outside the photo
    faces = detect_faces(canvas)
    assert len(faces) == 1 and all(_matched(faces.boxes, [eyes])) and faces.boxes[0, 0] < 0
    assert _eye_errors(faces.eyes, eyes).max() < 0.2


def test_huge_photo_is_searched_on_a_pyramid_and_boxes_scaled_back(real_faces):
    canvas = blank_canvas(2400, 3600)
    eyes = paste(canvas, real_faces[0], 300, (1500, 1100))
    assert pyramid_sides(canvas.shape, PHOTO_SMALLEST_FACE) == [3600.0, 1800.0, 900.0, 450.0, 225.0, 112.5]
    detector = CountingDetector()
    faces = detect_faces(canvas, detector, smallest_face=300)  # the full search takes seconds on a 3600 px photo
    assert [batch[1:] for batch in detector.batches] == [(INPUT_SIDE, INPUT_SIDE, 3)] * 3, "three levels of 128 px windows"
    assert [batch[0] for batch in detector.batches] == [1, 3 * 2, 7 * 5], "the whole photo, then windows overlapping by half"
    assert len(faces) == 1 and all(_matched(faces.boxes, [eyes])) and faces.boxes[0, 2] > 500
    assert _eye_errors(faces.eyes, eyes).max() < 0.2, "eye points in the photo's pixels, not a window's"


def test_small_face_in_a_large_photo_is_found_by_a_finer_level(real_faces):
    canvas = blank_canvas(1200, 1600)
    eyes = paste(canvas, real_faces[1], 36, (1130, 830))  # a face about 90 px wide, 6% of the photo
    assert pyramid_sides(canvas.shape, VIDEO_SMALLEST_FACE) == [1600.0, 800.0, 400.0, 200.0]
    assert len(detect_faces(canvas, smallest_face=1600)) == 0, "too small for the whole-photo window alone"
    faces = detect_faces(canvas, smallest_face=VIDEO_SMALLEST_FACE)
    assert len(faces) == 1 and all(_matched(faces.boxes, [eyes])) and 60 < faces.boxes[0, 2] < 150
    assert _eye_errors(faces.eyes, eyes).max() < 0.25


def test_small_photo_is_enlarged_to_the_model_input(real_faces):
    small = cv2.resize(real_faces[1].gray, (64, 64), interpolation=cv2.INTER_AREA)
    assert pyramid_sides(small.shape, PHOTO_SMALLEST_FACE) == [64.0]
    windows, corners, scale = level_windows(np.repeat(small[..., None], 3, axis=2), 64.0, whole=True)
    assert windows.shape == (1, INPUT_SIDE, INPUT_SIDE, 3) and scale == 2.0 and corners.tolist() == [[0.0, 0.0]]
    faces = detect_faces(small)
    eyes = real_faces[1].eyes * 64 / real_faces[1].gray.shape[0]
    assert len(faces) == 1 and all(_matched(faces.boxes, [eyes]))
    assert _eye_errors(faces.eyes, eyes).max() < 0.2


def test_level_windows_cut_the_resized_photo_into_overlapping_windows():
    rgb = np.random.default_rng(0).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    windows, corners, scale = level_windows(rgb, 250.0, whole=False)
    assert scale == pytest.approx(128 / 250)
    small = cv2.resize(rgb, (256, 154), interpolation=cv2.INTER_AREA)
    assert windows.shape == (6, 128, 128, 3)
    np.testing.assert_allclose(corners * scale, [[0, 0], [64, 0], [128, 0], [0, 64], [64, 64], [128, 64]])
    np.testing.assert_array_equal(windows[4, :90], small[64:154, 64:192])  # 90 rows of photo, then zero padding
    assert windows[4, 90:].max() == 0
    whole, corner, whole_scale = level_windows(rgb, 500.0, whole=True)
    assert whole.shape == (1, 128, 128, 3) and corner.tolist() == [[0.0, 0.0]] and whole_scale == pytest.approx(128 / 500)
    assert whole[0, 77:].max() == 0, "the photo's 77 resized rows, then padding to a square"


def test_pyramid_sides_stop_once_the_smallest_face_is_covered():
    assert pyramid_sides((480, 640), VIDEO_SMALLEST_FACE) == [640.0, 320.0], "two levels on a video frame"
    assert pyramid_sides((480, 640, 3), PHOTO_SMALLEST_FACE) == [640.0, 320.0, 160.0]
    assert pyramid_sides((MIN_PHOTO_SIDE, 100), PHOTO_SMALLEST_FACE) == [100.0]


@pytest.mark.parametrize("shape, size", [((20, 16), "16x20 px"), ((23, 400), "400x23 px"), ((400, 23, 3), "23x400 px")])
def test_too_small_photo_is_refused_with_its_size(shape, size):
    with pytest.raises(PhotoTooSmallError, match=size):
        detect_faces(np.zeros(shape, dtype=np.uint8))


def test_no_face_gives_no_box():
    faces = detect_faces(blank_canvas(200, 300))
    assert len(faces) == 0 and faces.boxes.shape == (0, 4) and faces.eyes.shape == (0, 2, 2)


def test_sorted_faces_left_to_right_then_top_to_bottom_with_their_eyes():
    detections = np.array([[50, 10, 5, 5, 54, 12, 51, 12], [10, 80, 5, 5, 14, 82, 11, 82], [10, 20, 5, 5, 14, 22, 11, 22]])
    faces = sorted_faces(detections)
    np.testing.assert_array_equal(faces.boxes, [[10, 20, 5, 5], [10, 80, 5, 5], [50, 10, 5, 5]])
    np.testing.assert_array_equal(faces.eyes, [[[14, 22], [11, 22]], [[14, 82], [11, 82]], [[54, 12], [51, 12]]])
    empty = sorted_faces(np.zeros((0, 8)))
    assert len(empty) == 0 and empty.boxes.shape == (0, 4) and empty.eyes.shape == (0, 2, 2)


def test_anchors_are_the_models_896_grid_centres():
    centres = anchors()
    assert centres.shape == (896, 2) and np.all((centres > 0) & (centres < 1))
    assert len(np.unique(centres[:512], axis=0)) == 16 * 16 and len(np.unique(centres[512:], axis=0)) == 8 * 8
    np.testing.assert_allclose(centres[:3], [[1 / 32, 1 / 32], [1 / 32, 1 / 32], [3 / 32, 1 / 32]])  # 2 per cell, x first
    np.testing.assert_allclose(centres[512:519], [[1 / 16, 1 / 16]] * 6 + [[3 / 16, 1 / 16]])  # 6 per cell


def test_detector_gives_boxes_eyes_and_scores_per_anchor():
    assert model_path().is_file()
    window = cv2.resize(data.astronaut()[40:296, 90:346], (128, 128), interpolation=cv2.INTER_AREA)  # face mid-window
    boxes, scores = default_detector()(np.stack([window, np.zeros_like(window)]))
    assert boxes.shape == (2, 896, 8) and scores.shape == (2, 896)
    assert np.all((scores >= 0) & (scores <= 1)) and scores[0].max() > 0.9 and scores[1].max() < 0.5
    best = boxes[0, scores[0].argmax()]
    assert contains(best[:4], (np.array([220.0, 115.0]) - [90, 40]) / 2), "between her eyes, in window pixels"
    assert best[4] > best[6], "the person's left eye point comes first and is on the image's right"
