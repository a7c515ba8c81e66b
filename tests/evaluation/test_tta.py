"""Flip test-time augmentation with fake models whose behaviour under a mirror is known exactly."""
import numpy as np
import pytest

from fkp_helpers.data.keypoints import FLIP_PERMUTATION, flip_keypoints_horizontally, keypoint_index
from fkp_helpers.evaluation.tta import flip_tta_predictions, flip_tta_table, mirror_images, predict_with_flip_tta

LE, RE = keypoint_index("left_eye_center"), keypoint_index("right_eye_center")
RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(5, 96, 96), dtype=np.uint8)
TRUTH = RNG.uniform(10, 85, size=(5, 15, 2))
TRUTH[:, LE, 0], TRUTH[:, RE, 0] = 66.0, 30.0  # the person's left eye is on the image's right


def symmetric_template() -> np.ndarray:
    template = RNG.uniform(20, 76, size=(15, 2))
    return (template + flip_keypoints_horizontally(template)) / 2  # flip(template) == template


TEMPLATE = symmetric_template()


def equivariant_model(images: np.ndarray) -> np.ndarray:
    """Template shifted in x by the image's left/right brightness difference (negated by a mirror) and in y by its
    mean brightness (unchanged by a mirror): exactly model(mirror(I)) == flip(model(I))."""
    images = images.astype(np.float64)
    shift_x = (images[:, :, :48].mean(axis=(1, 2)) - images[:, :, 48:].mean(axis=(1, 2))) / 10
    shift_y = images.mean(axis=(1, 2)) / 100
    out = np.repeat(TEMPLATE[None], len(images), axis=0)
    out[..., 0] += shift_x[:, None]
    out[..., 1] += shift_y[:, None]
    return out


def knows_the_faces(bias) -> callable:
    """A model that returns the true keypoints of each face (flipped truth for a mirrored face) plus ``bias(out)``."""
    answers = {}
    for image, truth in zip(IMAGES, TRUTH):
        answers[image.tobytes()] = truth
        answers[image[:, ::-1].tobytes()] = flip_keypoints_horizontally(truth)

    def predict(images: np.ndarray) -> np.ndarray:
        out = np.stack([answers[np.ascontiguousarray(image).tobytes()].copy() for image in images])
        bias(out)
        return out

    return predict


def test_mirror_images_round_trip_and_channels():
    np.testing.assert_array_equal(mirror_images(mirror_images(IMAGES)), IMAGES)
    np.testing.assert_array_equal(mirror_images(IMAGES)[:, :, 0], IMAGES[:, :, 95])
    with_channel = IMAGES[..., None].astype(np.float32) / 255
    np.testing.assert_array_equal(mirror_images(with_channel)[..., 0], mirror_images(IMAGES).astype(np.float32) / 255)
    with pytest.raises(ValueError, match="shape"):
        mirror_images(IMAGES[0])


def test_exactly_symmetric_model_gains_nothing():
    assert not np.allclose(equivariant_model(IMAGES), equivariant_model(IMAGES)[:1])  # outputs depend on the image
    np.testing.assert_allclose(predict_with_flip_tta(equivariant_model, IMAGES), equivariant_model(IMAGES), atol=1e-4)


def test_global_sideways_bias_is_averaged_away():
    def shift_right(out):
        out[..., 0] += 2.0  # the model puts everything 2 px too far to the image's right

    predicted = predict_with_flip_tta(knows_the_faces(shift_right), IMAGES)
    np.testing.assert_allclose(predicted, TRUTH, atol=1e-4)


def test_unflip_puts_the_left_eye_back_on_the_left():
    def left_eye_bias(out):
        out[:, LE, 0] += 3.0  # only the left-eye output is biased

    plain, unflipped = flip_tta_predictions(knows_the_faces(left_eye_bias), IMAGES)
    # the mirrored prediction, un-flipped, is the true left eye (on the image's right), with the bias now on the
    # right eye: the mirror's "left eye" output was the original's right eye
    np.testing.assert_allclose(unflipped[:, LE], TRUTH[:, LE])
    np.testing.assert_allclose(unflipped[:, RE, 0], TRUTH[:, RE, 0] - 3.0)
    averaged = predict_with_flip_tta(knows_the_faces(left_eye_bias), IMAGES)
    np.testing.assert_allclose(averaged[:, LE, 0], TRUTH[:, LE, 0] + 1.5, atol=1e-4)
    np.testing.assert_allclose(averaged[:, RE, 0], TRUTH[:, RE, 0] - 1.5, atol=1e-4)
    # without the label swap the "left eye" would land on the right eye's position
    mirrored = knows_the_faces(left_eye_bias)(mirror_images(IMAGES))
    no_swap = mirrored.copy()
    no_swap[..., 0] = 95 - no_swap[..., 0]
    assert (no_swap[:, LE, 0] < 48).all() and (averaged[:, LE, 0] > 48).all()
    np.testing.assert_allclose(no_swap[:, FLIP_PERMUTATION], unflipped)


def test_output_dtype_and_bad_predict_fn():
    predicted = predict_with_flip_tta(equivariant_model, IMAGES)
    assert predicted.shape == (5, 15, 2) and predicted.dtype == np.float32
    with pytest.raises(ValueError, match="predict_fn returned shape"):
        predict_with_flip_tta(lambda images: np.zeros((len(images), 30)), IMAGES)


def test_flip_tta_table():
    def shift_right(out):
        out[..., 0] += 2.0

    plain, unflipped = flip_tta_predictions(knows_the_faces(shift_right), IMAGES)
    table = flip_tta_table({"shifted": plain}, {"shifted": unflipped}, TRUTH)
    # x errors +2 plain, -2 mirrored, 0 averaged; y errors 0: RMSE sqrt(4 / 2)
    row = table.loc["shifted"]
    assert row["rmse_px"] == pytest.approx(np.sqrt(2)) and row["rmse_mirrored_px"] == pytest.approx(np.sqrt(2))
    assert row["rmse_tta_px"] == pytest.approx(0, abs=1e-9)
    assert row["gain_px"] == pytest.approx(np.sqrt(2)) and row["gain_percent"] == pytest.approx(100)
    assert list(table.columns) == ["rmse_px", "rmse_mirrored_px", "rmse_tta_px", "gain_px", "gain_percent"]
