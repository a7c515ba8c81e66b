"""End to end: what ``fit`` trains on when the notebooks' AugmentedSequence feeds the masked loss (NaN holes, flips)."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from fkp_helpers.augment import AugmentConfig, AugmentedSequence
from fkp_helpers.data.keypoints import FLIP_PERMUTATION, IMAGE_SIZE, N_KEYPOINTS, keypoint_index
from fkp_helpers.data.synth_model import load_synth_model
from fkp_helpers.training import build_nouri_net, compile_model, make_optimizer, set_reproducible
from fkp_helpers.training.batches import prefetched

NEVER_LABELLED = ("nose_tip", "left_eyebrow_outer_end", "right_eyebrow_outer_end")
"""A keypoint that is its own mirror image and a flip pair: no flip can give them a label."""
ONLY_FLIPS = AugmentConfig(contrast=(1.0, 1.0), blur_probability=0.0, brightness=(0, 0), rotate_degrees=0.0,
                           scale=(1.0, 1.0), translate_fraction=0.0, flip_probability=1.0)
"""Every image mirrored (with the label swap) and nothing else changed."""


def tiny_cnn() -> keras.Model:
    """A one-conv, 8-unit CNN ending in the project's ``normalised_keypoints`` Dense head."""
    set_reproducible(0)
    return build_nouri_net(filters=(4,), kernel_sizes=(3,), dense_units=(8,), name="tiny")


def faces_with_dots(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Black uint8 images with one dot per keypoint, of grey level ``100 + 10 * k`` for keypoint ``k``, at integer
    positions of plausible faces (FKP-synth shapes): the image says which keypoint is where."""
    shapes = load_synth_model().sample_shapes(np.random.default_rng(0), np.ones(n, bool))
    keypoints = np.round(shapes).astype(np.float32)
    assert all(len({tuple(point) for point in face}) == N_KEYPOINTS for face in keypoints), "one dot per keypoint"
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    for image, face in zip(images, keypoints):
        image[face[:, 1].astype(int), face[:, 0].astype(int)] = 100 + 10 * np.arange(N_KEYPOINTS)
    return images, keypoints


def record_batches(model: keras.Model) -> list[tuple[np.ndarray, np.ndarray]]:
    """Make ``model`` record every (x, y) batch its training step receives, inside fit's compiled step."""
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    train_step = model.train_step

    def recording_step(data):
        x, y = data[:2]
        done = tf.py_function(lambda a, b: seen.append((a.numpy(), b.numpy())) or 0, [x, y], tf.int32)
        with tf.control_dependencies([done]):
            return train_step((tf.identity(x), tf.identity(y)))

    model.train_step = recording_step
    return seen


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_coordinate_never_labelled_leaves_its_output_weights_unchanged(optimizer):
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(20, 76, (16, N_KEYPOINTS, 2)).astype(np.float32)
    keypoints[rng.random((16, N_KEYPOINTS)) < 0.3] = np.nan  # holes everywhere, as in Kaggle's labels
    never = [keypoint_index(name) for name in NEVER_LABELLED]
    keypoints[:, never] = np.nan
    images = rng.integers(0, 256, (16, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    sequence = AugmentedSequence(images, keypoints, batch_size=8, seed=0)  # the notebooks' augmentation, flips included
    model = tiny_cnn()
    plain_sgd = keras.optimizers.SGD(learning_rate=0.05, momentum=0.0)
    compile_model(model, plain_sgd if optimizer == "sgd" else make_optimizer("adam", 1e-2))
    head = model.get_layer("normalised_keypoints")
    before = [np.array(w) for w in head.get_weights()]
    model.fit(prefetched(sequence), epochs=2, shuffle=False, verbose=0)
    kernel, bias = head.get_weights()
    columns = np.array([[2 * k, 2 * k + 1] for k in never]).ravel()
    np.testing.assert_array_equal(kernel[:, columns], before[0][:, columns])
    np.testing.assert_array_equal(bias[columns], before[1][columns])
    labelled = np.setdiff1d(np.arange(2 * N_KEYPOINTS), columns)
    assert not np.isclose(bias[labelled], before[1][labelled]).any(), "every labelled coordinate trained"
    assert all(np.isfinite(w).all() for w in model.get_weights()), "the NaN holes reached no weight"


def test_fit_trains_on_flipped_faces_with_left_and_right_labels_swapped():
    images, keypoints = faces_with_dots(6)
    left, right = keypoint_index("left_eye_center"), keypoint_index("right_eye_center")
    assert (keypoints[:, left, 0] > keypoints[:, right, 0]).all(), "the subject's left eye is on the image's right"
    sequence = AugmentedSequence(images, keypoints, batch_size=4, seed=0, config=ONLY_FLIPS)
    model = tiny_cnn()
    compile_model(model, "sgd", 1e-3)
    seen = record_batches(model)
    model.fit(prefetched(sequence), epochs=1, shuffle=False, verbose=0)
    x = np.concatenate([batch[0] for batch in seen])[..., 0]
    y = np.concatenate([batch[1] for batch in seen]).reshape(-1, N_KEYPOINTS, 2)
    sequence.set_epoch(0)
    helper = np.concatenate([sequence[i][1] for i in range(len(sequence))]).reshape(y.shape)
    assert len(seen) == len(sequence) and np.array_equal(y, helper, equal_nan=True), "fit got what the sequence makes"
    rows = sequence.batch_indices(0).tolist() + sequence.batch_indices(1).tolist()
    np.testing.assert_array_equal(x, images[rows][:, :, ::-1] / np.float32(255.0), "every image mirrored")
    assert (y[:, left, 0] > y[:, right, 0]).all(), "after the flip the left eye is still the one on the image's right"
    grey = x[np.arange(len(x))[:, None], y[..., 1].astype(int), y[..., 0].astype(int)] * 255.0
    np.testing.assert_allclose(grey, np.broadcast_to(100 + 10 * FLIP_PERMUTATION, grey.shape), atol=1e-3,
                               err_msg="each label points at its mirror partner's dot")
