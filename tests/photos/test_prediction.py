"""Prediction over many faces: one model call per batch, the second pass levels the eyes, results map back exactly."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from fkp_helpers.photos.calibration import eye_centres_in_box, kaggle_eye_centres
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


def _rough_box(eyes: np.ndarray, shift: tuple[float, float] = (6.0, -4.0)) -> np.ndarray:
    """A detector-like box for level eyes at the mean eye distance, off by ``shift`` pixels."""
    ratios = eye_centres_in_box()
    width = np.linalg.norm(eyes[0] - eyes[1]) / (ratios[0, 0] - ratios[1, 0])
    corner = eyes.mean(axis=0) - ratios.mean(axis=0) * width + shift
    return np.array([*corner, width, width])


@pytest.fixture
def two_photos() -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Two photos with 2 and 3 blob-eyed faces (tilted up to 20 degrees): grey images, boxes, true eyes."""
    eyes = [[_eyes((150, 200), 80, 20), _eyes((480, 260), 70, -12)],
            [_eyes((120, 150), 60, 0), _eyes((330, 300), 90, 15), _eyes((560, 180), 50, -20)]]
    grays = [_eye_photo(pairs) for pairs in eyes]
    boxes = [np.array([_rough_box(pair) for pair in pairs]) for pairs in eyes]
    return grays, boxes, eyes


def test_second_pass_levels_the_eyes_and_maps_back_exactly(two_photos):
    grays, boxes, eyes = two_photos
    finder = EyeFinder()
    keypoints = locate_keypoints(grays, boxes, finder, flip_tta=False, second_pass=True)
    second_pass_eyes = finder(finder.batches[1])[:, :2]
    np.testing.assert_allclose(second_pass_eyes, np.broadcast_to(kaggle_eye_centres(), second_pass_eyes.shape), atol=0.15)
    for photo_keypoints, photo_eyes in zip(keypoints, eyes):
        np.testing.assert_allclose(photo_keypoints[:, :2], np.array(photo_eyes), atol=0.25)


def test_first_pass_alone_leaves_tilted_eyes_tilted(two_photos):
    grays, boxes, _ = two_photos
    finder = EyeFinder()
    locate_keypoints(grays, boxes, finder, flip_tta=False, second_pass=False)
    found = finder(finder.batches[0])
    tilt = np.degrees(np.arctan2(found[:, 0, 1] - found[:, 1, 1], found[:, 0, 0] - found[:, 1, 0]))
    assert np.abs(tilt).max() > 15


@pytest.mark.parametrize("flip_tta, second_pass, calls", [(False, False, 1), (True, False, 2), (True, True, 4)])
def test_one_model_call_per_batch_for_all_faces_of_all_photos(two_photos, flip_tta, second_pass, calls):
    grays, boxes, eyes = two_photos
    finder = EyeFinder()
    keypoints = locate_keypoints(grays, boxes, finder, flip_tta=flip_tta, second_pass=second_pass)
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
