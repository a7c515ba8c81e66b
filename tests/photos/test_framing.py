"""Framing: detector eye points through the calibration, eyes land on Kaggle's mean eyes, crops and points agree to
< 0.1 px, map-back inverts exactly."""
from __future__ import annotations

import numpy as np
import pytest

from fkp_helpers.data.shapes import similarity_transform
from fkp_helpers.photos.calibration import eye_centres_from_detector, kaggle_eye_centres
from fkp_helpers.photos.detection import Faces, detect_faces
from fkp_helpers.photos.framing import (
    crop_faces,
    eye_axes,
    eyes_from_detector,
    frames_from_eyes,
    frames_from_faces,
    frames_from_keypoints,
    map_points,
    pyramid_level,
    similarity_matrix,
    to_photo,
)

from .conftest import blank_canvas, four_faces


def _blob_photo(points: np.ndarray, sigma: float, shape=(900, 1200)) -> np.ndarray:
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    image = np.zeros(shape)
    for x, y in points:
        image += 250 * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma**2))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _centroid(crop: np.ndarray, near: np.ndarray, radius: int) -> np.ndarray:
    ys, xs = np.mgrid[: crop.shape[0], : crop.shape[1]]
    weights = crop.astype(float) * ((xs - near[0]) ** 2 + (ys - near[1]) ** 2 <= radius**2)
    return np.array([(weights * xs).sum(), (weights * ys).sum()]) / weights.sum()


@pytest.mark.parametrize("scale, angle_deg", [(0.15, 25.0), (0.6, -10.0), (1.7, 5.0)])
def test_crop_and_map_back_round_trip_under_a_tenth_of_a_pixel(scale, angle_deg):
    frame_points = np.array([[30.3, 37.6], [66.4, 37.7], [48.2, 62.9]])  # where the blobs should land in the crop
    frame = similarity_matrix(scale, np.radians(angle_deg), np.array([-40.0, 10.0]))
    frame[:, 2] += frame_points[0] - map_points(np.array([[[600.2, 450.7]]]), frame[np.newaxis])[0, 0]
    photo_points = to_photo(frame_points[np.newaxis], frame[np.newaxis])[0]
    crop = crop_faces(_blob_photo(photo_points, sigma=2.0 / scale), frame[np.newaxis])[0]
    found = np.array([_centroid(crop, point, radius=9) for point in frame_points])
    assert np.abs(found - frame_points).max() < 0.1
    back = to_photo(found[np.newaxis], frame[np.newaxis])[0]
    assert np.abs(back - photo_points).max() * scale < 0.1


def test_map_points_and_to_photo_are_inverse():
    rng = np.random.default_rng(0)
    frames = np.array([similarity_matrix(s, a, t) for s, a, t in
                       zip(rng.uniform(0.05, 3, 5), rng.uniform(-3, 3, 5), rng.uniform(-500, 500, (5, 2)))])
    points = rng.uniform(0, 2000, (5, 15, 2))
    np.testing.assert_allclose(to_photo(map_points(points, frames), frames), points, atol=1e-8)


def test_frames_from_eyes_put_the_eyes_on_kaggles_mean_eyes():
    eyes = np.array([[[410.0, 300.0], [250.0, 360.0]], [[80.0, 40.0], [60.0, 41.0]]])
    np.testing.assert_allclose(map_points(eyes, frames_from_eyes(eyes)), np.repeat(kaggle_eye_centres()[None], 2, 0), atol=1e-9)


def test_second_pass_frame_levels_tilted_eyes_like_kaggles_mean():
    keypoints = np.full((1, 15, 2), np.nan)
    keypoints[0, :2] = [[300.0, 180.0], [200.0, 240.0]]  # 31 degrees tilt
    framed = map_points(keypoints[:, :2], frames_from_keypoints(keypoints))[0]
    np.testing.assert_allclose(framed, kaggle_eye_centres(), atol=1e-9)
    assert abs(framed[0, 1] - framed[1, 1]) < 0.5  # Kaggle's mean eye line tilts by 0.33 px


def test_eye_axes_run_from_the_right_to_the_left_point_and_across():
    middle, along, across = eye_axes(np.array([[[130.0, 50.0], [100.0, 10.0]]]))
    np.testing.assert_allclose(middle, [[115.0, 30.0]])
    np.testing.assert_allclose(along, [[30.0, 40.0]])
    np.testing.assert_allclose(across, [[-40.0, 30.0]])  # along turned a quarter (downwards for level eyes)


def test_calibration_puts_the_eyes_near_the_detectors_eye_points():
    offsets = eye_centres_from_detector()
    assert offsets.shape == (2, 2)
    assert 0.3 < offsets[0, 0] < 0.7 and -0.7 < offsets[1, 0] < -0.3, "person's left eye along +x, right eye along -x"
    assert np.abs(offsets[:, 1]).max() < 0.2, "close to the line through the eye points"


def _rotate_scale(points: np.ndarray, scale: float, angle_deg: float, shift: np.ndarray) -> np.ndarray:
    return points @ similarity_matrix(scale, np.radians(angle_deg), shift)[:, :2].T + shift


def test_eyes_from_detector_apply_the_calibration_and_turn_and_scale_with_the_eye_points():
    unit = np.array([[[0.5, 0.0], [-0.5, 0.0]]])  # level points one unit apart, midpoint at the origin
    np.testing.assert_allclose(eyes_from_detector(unit), eye_centres_from_detector()[np.newaxis], atol=1e-12)
    cases = [(80.0, 0.0, np.array([300.0, 200.0])), (45.0, 30.0, np.array([120.0, -40.0])),
             (200.0, -70.0, np.array([1500.0, 900.0])), (12.0, 180.0, np.zeros(2))]
    points = np.concatenate([_rotate_scale(unit, *case) for case in cases])
    expected = np.stack([_rotate_scale(eye_centres_from_detector(), *case) for case in cases])
    np.testing.assert_allclose(eyes_from_detector(points), expected, atol=1e-9)
    assert eyes_from_detector(np.zeros((0, 2, 2))).shape == (0, 2, 2)


def test_frames_from_faces_put_the_calibrated_eyes_on_kaggles_mean_eyes():
    eyes = np.array([[[410.0, 300.0], [250.0, 360.0]], [[80.0, 40.0], [60.0, 41.0]]])
    faces = Faces(np.array([[200.0, 250.0, 260.0, 260.0], [50.0, 20.0, 45.0, 45.0]]), eyes)
    frames = frames_from_faces(faces)
    assert frames.shape == (2, 2, 3)
    np.testing.assert_allclose(map_points(eyes_from_detector(eyes), frames), np.repeat(kaggle_eye_centres()[None], 2, 0),
                               atol=1e-9)
    assert frames_from_faces(Faces(np.zeros((0, 4)), np.zeros((0, 2, 2)))).shape == (0, 2, 3)


def test_first_pass_frame_from_detected_faces_lands_real_eyes_near_kaggles_mean(real_faces):
    canvas, eyes = four_faces(real_faces)
    faces = detect_faces(canvas)
    framed = map_points(np.array(eyes), frames_from_faces(faces))
    errors = np.linalg.norm(framed - kaggle_eye_centres(), axis=2)
    assert errors.max() < 8 and errors.mean() < 5, "eyes 36 px apart in the frame"
    _, angles, _ = zip(*(similarity_transform(f, kaggle_eye_centres()) for f in framed))
    assert np.abs(np.degrees(angles)).max() < 10, "the detector's eye points level the two rotated faces too"


def test_pyramid_level_keeps_the_remaining_reduction_under_two():
    assert [pyramid_level(similarity_matrix(s, 0.3, np.zeros(2))) for s in (2.0, 1.0, 0.6, 0.5, 0.3, 0.1)] == [0, 0, 0, 1, 1, 3]


def test_crop_faces_shapes():
    gray = blank_canvas(100, 100)
    assert crop_faces(gray, np.zeros((0, 2, 3))).shape == (0, 96, 96)
    crops = crop_faces(gray, np.array([similarity_matrix(1.0, 0.0, np.zeros(2))] * 2))
    assert crops.shape == (2, 96, 96) and crops.dtype == np.uint8
    np.testing.assert_array_equal(crops[0], gray[:96, :96])
