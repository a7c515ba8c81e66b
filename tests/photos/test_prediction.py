"""Prediction over many faces: one model call per batch, the second pass levels the eyes, results map back exactly."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from fkp_helpers.photos.calibration import eye_centres_from_detector, kaggle_eye_centres
from fkp_helpers.photos.detection import Faces
from fkp_helpers.photos.model_check import load_keypoint_model
from fkp_helpers.photos.prediction import locate_keypoints, model_predict_fn, predict_in_frames
from fkp_helpers.training.model_files import save_model_atomically

SIGMA = 5.0


class EyeFinder:
    """A fake model whose answers we control: the eyes are the two bright blobs, one in each half of the crop."""

    def __init__(self):
        self.batches: list[np.ndarray] = []

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.batches.append(np.array(images))
        ys, xs = np.mgrid[:96, :96]
        keypoints = np.full((len(images), 15, 2), 48.0)
        for image, points in zip(np.asarray(images, dtype=np.float64), keypoints):
            for eye, half in ((0, xs >= 48), (1, xs < 48)):  # person's left eye is on the image's right
                weights = image * half
                points[eye] = [(weights * xs).sum() / weights.sum(), (weights * ys).sum() / weights.sum()]
        return keypoints


def _eye_photo(eye_pairs: list[np.ndarray], shape=(500, 700)) -> np.ndarray:
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    image = np.zeros(shape)
    for x, y in np.concatenate(eye_pairs):
        image += 250 * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * SIGMA**2))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _eyes(centre: tuple[float, float], distance: float, tilt_deg: float) -> np.ndarray:
    half = distance / 2 * np.array([np.cos(np.radians(tilt_deg)), np.sin(np.radians(tilt_deg))])
    return np.array([np.add(centre, half), np.subtract(centre, half)])  # person's left (image right), person's right


def _detector_eyes(eyes: np.ndarray, jitter: np.ndarray) -> np.ndarray:
    """Detector-like eye points ``(2, 2)`` for true eyes ``(2, 2)``: the points that the calibration maps exactly onto
    them (the inverse of ``eyes_from_detector``), each moved by ``jitter`` ``(2, 2)`` pixels."""
    true, offsets = (points @ [1, 1j] for points in (np.asarray(eyes, dtype=np.float64), eye_centres_from_detector()))
    scale = (true[0] - true[1]) / (offsets[0] - offsets[1])  # the similarity from the calibration's frame to the photo
    points = scale * (np.array([0.5, -0.5]) - offsets[0]) + true[0]
    return np.stack([points.real, points.imag], axis=1) + jitter


def _faces(eye_pairs: list[np.ndarray], jitter: np.ndarray) -> Faces:
    """The ``Faces`` a detector would give: detector eye points off by ``jitter`` and boxes around them."""
    eyes = np.array([_detector_eyes(pair, jitter) for pair in eye_pairs])
    distance = np.linalg.norm(eyes[:, 0] - eyes[:, 1], axis=1, keepdims=True)
    return Faces(np.c_[eyes.mean(axis=1) - distance, 2 * distance, 2 * distance], eyes)


JITTER = np.array([[6.0, -4.0], [-3.0, 5.0]])
"""How far off the detector's eye points are (person's left, right), pixels: the eye line 4 to 7 degrees off."""


@pytest.fixture
def two_photos() -> tuple[list[np.ndarray], list[Faces], list[np.ndarray]]:
    """Two photos with 2 and 3 blob-eyed faces (tilted up to 20 degrees): grey images, their faces as a detector with
    errors would give them, true eyes."""
    eyes = [[_eyes((150, 200), 80, 20), _eyes((480, 260), 70, -12)],
            [_eyes((120, 150), 60, 0), _eyes((330, 300), 90, 15), _eyes((560, 180), 50, -20)]]
    grays = [_eye_photo(pairs) for pairs in eyes]
    return grays, [_faces(pairs, JITTER) for pairs in eyes], eyes


def _tilt_deg(keypoints: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(keypoints[:, 0, 1] - keypoints[:, 1, 1], keypoints[:, 0, 0] - keypoints[:, 1, 0]))


def test_exact_detector_eye_points_frame_the_eyes_on_kaggles_mean_in_the_first_pass(two_photos):
    grays, _, eyes = two_photos
    finder = EyeFinder()
    keypoints = locate_keypoints(grays, [_faces(pairs, np.zeros((2, 2))) for pairs in eyes], finder, flip_tta=False,
                                 second_pass=False)
    first_pass_eyes = finder(finder.batches[0])[:, :2]
    np.testing.assert_allclose(first_pass_eyes, np.broadcast_to(kaggle_eye_centres(), first_pass_eyes.shape), atol=0.15)
    for photo_keypoints, photo_eyes in zip(keypoints, eyes):
        np.testing.assert_allclose(photo_keypoints[:, :2], np.array(photo_eyes), atol=0.25)


def test_second_pass_levels_the_eyes_and_maps_back_exactly(two_photos):
    grays, faces, eyes = two_photos
    finder = EyeFinder()
    keypoints = locate_keypoints(grays, faces, finder, flip_tta=False, second_pass=True)
    second_pass_eyes = finder(finder.batches[1])[:, :2]
    np.testing.assert_allclose(second_pass_eyes, np.broadcast_to(kaggle_eye_centres(), second_pass_eyes.shape), atol=0.15)
    for photo_keypoints, photo_eyes in zip(keypoints, eyes):
        np.testing.assert_allclose(photo_keypoints[:, :2], np.array(photo_eyes), atol=0.25)


def test_first_pass_alone_keeps_the_detectors_error(two_photos):
    grays, faces, eyes = two_photos
    finder = EyeFinder()
    keypoints = locate_keypoints(grays, faces, finder, flip_tta=False, second_pass=False)
    found = finder(finder.batches[0])[:, :2]
    assert np.all(np.abs(_tilt_deg(found)) > 3.5), "the first frame is as tilted as the detector's eye line is off"
    assert np.linalg.norm(found - kaggle_eye_centres(), axis=2).max() > 3, "and the eyes miss Kaggle's mean eyes"
    np.testing.assert_allclose(np.concatenate(keypoints)[:, :2], np.concatenate([np.array(e) for e in eyes]), atol=0.25)


@pytest.mark.parametrize("flip_tta, second_pass, calls", [(False, False, 1), (True, False, 2), (True, True, 4)])
def test_one_model_call_per_batch_for_all_faces_of_all_photos(two_photos, flip_tta, second_pass, calls):
    grays, faces, eyes = two_photos
    finder = EyeFinder()
    keypoints = locate_keypoints(grays, faces, finder, flip_tta=flip_tta, second_pass=second_pass)
    assert [len(batch) for batch in finder.batches] == [5] * calls
    assert [k.shape for k in keypoints] == [(2, 15, 2), (3, 15, 2)]
    if flip_tta:  # the mirror's prediction, flipped back with swapped labels, agrees with the plain one
        np.testing.assert_allclose(np.concatenate(keypoints)[:, :2], np.concatenate([np.array(e) for e in eyes]), atol=1.5)


def test_photos_without_faces_cost_no_model_call():
    finder = EyeFinder()
    assert [k.shape for k in predict_in_frames([np.zeros((50, 50), np.uint8)], [np.zeros((0, 2, 3))], finder)] == [(0, 15, 2)]
    assert finder.batches == []


def brightness_model() -> keras.Model:
    """A keypoint model whose answer is known: keypoint ``k`` at (10 + 5k, 20 + 3k) px on a black crop, every
    coordinate 12 px further on a white one (the head regresses ``(y - 48) / 48`` like the project's networks)."""
    inputs = keras.Input((96, 96, 1))
    brightness = keras.layers.GlobalAveragePooling2D()(inputs)
    head = keras.layers.Dense(30, name="normalised_keypoints")
    outputs = keras.layers.Rescaling(48.0, offset=48.0, name="to_pixels")(head(brightness))
    model = keras.Model(inputs, outputs)
    black = np.stack([10 + 5 * np.arange(15), 20 + 3 * np.arange(15)], axis=1).ravel()
    head.set_weights([np.full((1, 30), 12 / 48), (black - 48) / 48])
    return model


def test_model_predict_fn_returns_keypoints_in_pixels(tmp_path):
    path = save_model_atomically(brightness_model(), tmp_path / "models" / "known.keras")
    crops = np.stack([np.zeros((96, 96), np.uint8), np.full((96, 96), 255, np.uint8)])
    predicted = model_predict_fn(load_keypoint_model(path))(crops)
    black = np.stack([10 + 5 * np.arange(15), 20 + 3 * np.arange(15)], axis=1)
    np.testing.assert_allclose(predicted, [black, black + 12], atol=1e-4)  # (x, y) per keypoint, Kaggle's order
