"""Tests for fkp_helpers.augment: keypoints move with the pixels, flips swap labels, NaN stays NaN, runs repeat."""
from __future__ import annotations

import imgaug.augmenters as iaa
import keras
import matplotlib.pyplot
import numpy as np
import pytest

from fkp_helpers.augment.checks import (
    CLEAN_STYLE,
    alignment_shift_px,
    before_after_grid,
    consistency_table,
    demo_transforms,
    face_region,
    lost_keypoints,
    upright_fraction,
)
from fkp_helpers.augment.pipeline import (
    FRAME_MAX,
    FRAME_MIN,
    SINGLE_AUGMENTERS,
    AugmentConfig,
    AugmentedSequence,
    apply_augmenter,
    augment_batch,
    build_augmenter,
    demo_vertical_flip,
    drop_out_of_frame,
    flip_horizontally,
    naive_flip,
    naive_flip_rmse,
    random_flip,
    single_augmenter,
)
from fkp_helpers.data.keypoints import (
    FLIP_PAIRS,
    FLIP_PERMUTATION,
    IMAGE_SIZE,
    KEYPOINT_NAMES,
    N_KEYPOINTS,
    keypoint_index,
)
from fkp_helpers.data.synth import render_face
from fkp_helpers.data.synth_model import load_synth_model

SEEDS = range(5)
BLOB_SIGMA = 1.5


def random_keypoints(rng: np.random.Generator, n: int, missing: float = 0.3, low: float = 20, high: float = 76) -> np.ndarray:
    """(n, 15, 2) float32 keypoints uniform in a central box, a share of them missing (NaN)."""
    keypoints = rng.uniform(low, high, (n, N_KEYPOINTS, 2)).astype(np.float32)
    keypoints[rng.random((n, N_KEYPOINTS)) < missing] = np.nan
    return keypoints


def random_batch(seed: int, n: int, **keypoint_options) -> tuple[np.ndarray, np.ndarray]:
    """n random uint8 images with random keypoints (see random_keypoints)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    return images, random_keypoints(rng, n, **keypoint_options)


def symmetric_keypoints() -> np.ndarray:
    """(15, 2) keypoints symmetric about the vertical centre line x = 47.5 (pairs mirrored, the rest on the line)."""
    keypoints = np.full((N_KEYPOINTS, 2), np.nan)
    centre = (IMAGE_SIZE - 1) / 2
    for row, (left, right) in enumerate(FLIP_PAIRS):
        offset, y = 8.0 + 6.1 * row, 12.0 + 12.0 * row
        keypoints[keypoint_index(left)] = (centre + offset, y)  # the person's left is the image's right
        keypoints[keypoint_index(right)] = (centre - offset, y)
    for row, name in enumerate(n for n in KEYPOINT_NAMES if np.isnan(keypoints[keypoint_index(n), 0])):
        keypoints[keypoint_index(name)] = (centre, 18.0 + 24.0 * row)
    return keypoints.astype(np.float32)


def blob_image(keypoints: np.ndarray, amplitudes: np.ndarray | None = None) -> np.ndarray:
    """A 96x96 uint8 image with a Gaussian blob centred on each labelled keypoint (pixel-index convention)."""
    amplitudes = np.full(len(keypoints), 200.0) if amplitudes is None else amplitudes
    grid = np.arange(IMAGE_SIZE, dtype=float)
    image = np.zeros((IMAGE_SIZE, IMAGE_SIZE))
    for (x, y), amplitude in zip(keypoints, amplitudes):
        if not np.isnan(x):
            image += amplitude * np.exp(-((grid[None, :] - x) ** 2 + (grid[:, None] - y) ** 2) / (2 * BLOB_SIGMA**2))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def blob_centroid(image: np.ndarray, near: np.ndarray, radius: int = 4) -> np.ndarray:
    """Intensity centroid (x, y) of the blob in a window around ``near``, background (window minimum) removed."""
    cx, cy = np.rint(near).astype(int)
    ys, xs = np.mgrid[cy - radius:cy + radius + 1, cx - radius:cx + radius + 1]
    weights = image[ys, xs].astype(float)
    weights -= weights.min()
    return np.array([(weights * xs).sum(), (weights * ys).sum()]) / weights.sum()


def spread_keypoints(n_rows: int = 3) -> np.ndarray:
    """Keypoints on a grid at sub-pixel positions, far enough apart that their blobs do not touch."""
    xs = 30.3 + 12.0 * np.arange(5)
    ys = 33.7 + 12.0 * np.arange(n_rows)
    return np.array([(x, y) for y in ys for x in xs], dtype=np.float32)


def pairwise_distances(points: np.ndarray) -> np.ndarray:
    """Distances between all pairs of points, upper triangle flattened."""
    d = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    return d[np.triu_indices(len(points), 1)]


# --- flips -------------------------------------------------------------------------------------------------------

def test_flip_twice_is_identity_with_nan_preserved():
    images, keypoints = random_batch(0, 6)
    twice = flip_horizontally(*flip_horizontally(images, keypoints))
    np.testing.assert_array_equal(twice[0], images)
    np.testing.assert_array_equal(np.isnan(twice[1]), np.isnan(keypoints))
    np.testing.assert_allclose(twice[1], keypoints, atol=1e-5)


def test_flip_of_symmetric_face_keeps_image_and_swapped_keypoints():
    keypoints = symmetric_keypoints()
    image = blob_image(keypoints)
    np.testing.assert_array_equal(image, image[:, ::-1])  # the synthetic face really is symmetric
    flipped_images, flipped = flip_horizontally(image[None], keypoints[None])
    np.testing.assert_array_equal(flipped_images[0], image)
    np.testing.assert_allclose(flipped[0], keypoints, atol=1e-4)  # left eye lands on the (mirrored) left eye
    for k in range(N_KEYPOINTS):
        assert np.linalg.norm(blob_centroid(flipped_images[0], flipped[0, k]) - flipped[0, k]) < 0.1
    naive = naive_flip(image[None], keypoints[None])[1][0]
    paired = FLIP_PERMUTATION != np.arange(N_KEYPOINTS)
    assert np.all(np.abs(naive[paired, 0] - keypoints[paired, 0]) > 5)  # without the swap the labels are wrong


def test_flip_moves_each_feature_to_its_swapped_label():
    keypoints = np.rint(spread_keypoints())  # whole pixels, so each blob's peak pixel holds its amplitude
    amplitudes = 100.0 + 10.0 * np.arange(N_KEYPOINTS)  # each feature recognisable by its brightness
    image = blob_image(keypoints, amplitudes)
    flipped_images, flipped = flip_horizontally(image[None], keypoints[None])
    for k in range(N_KEYPOINTS):
        assert np.linalg.norm(blob_centroid(flipped_images[0], flipped[0, k]) - flipped[0, k]) < 0.1
        x, y = flipped[0, k].astype(int)
        assert flipped_images[0, y, x] == amplitudes[FLIP_PERMUTATION[k]]


def test_our_coordinates_match_imgaug_fliplr_after_the_half_pixel_shift():
    images, keypoints = random_batch(2, 4, low=0, high=95)
    via_imgaug = apply_augmenter(iaa.Fliplr(1.0), images, keypoints, seed=0)
    expected = naive_flip(images, keypoints)  # imgaug's Fliplr does not swap labels
    np.testing.assert_array_equal(via_imgaug[0], expected[0])
    np.testing.assert_allclose(via_imgaug[1], expected[1], atol=1e-4)


def test_random_flip_swaps_exactly_the_flipped_samples():
    images, keypoints = random_batch(3, 40)
    out_images, out_keypoints, flipped = random_flip(images, keypoints, np.random.default_rng(0))
    assert 0 < flipped.sum() < 40
    correct = flip_horizontally(images[flipped], keypoints[flipped])
    np.testing.assert_array_equal(out_images[flipped], correct[0])
    np.testing.assert_array_equal(out_keypoints[flipped], correct[1])
    np.testing.assert_array_equal(out_images[~flipped], images[~flipped])
    np.testing.assert_array_equal(out_keypoints[~flipped], keypoints[~flipped])


def test_vertical_flip_demo_is_an_involution_and_not_in_the_pipeline():
    images, keypoints = random_batch(4, 3)
    twice = demo_vertical_flip(*demo_vertical_flip(images, keypoints))
    np.testing.assert_array_equal(twice[0], images)
    np.testing.assert_allclose(twice[1], keypoints, atol=1e-5)
    names = {type(a).__name__ for a in build_augmenter().get_all_children(flat=True)}
    assert not names & {"Flipud", "Fliplr"}


def test_naive_flip_rmse_is_zero_without_pairs_and_positive_with_them():
    keypoints = symmetric_keypoints()[None]
    assert naive_flip_rmse(keypoints) > 5
    midline_only = keypoints.copy()
    midline_only[:, FLIP_PERMUTATION != np.arange(N_KEYPOINTS)] = np.nan
    assert naive_flip_rmse(midline_only) == pytest.approx(0.0, abs=1e-5)


# --- geometry and pixels agree -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["rotate", "scale", "rotate_scale", "translate"])
def test_keypoints_follow_the_pixels_under_each_affine(name):
    keypoints = spread_keypoints()
    image = blob_image(keypoints)
    augmenter = single_augmenter(name)
    for seed in SEEDS:
        out_images, out_keypoints = apply_augmenter(augmenter, image[None], keypoints[None], seed)
        for k in range(N_KEYPOINTS):
            assert np.linalg.norm(blob_centroid(out_images[0], out_keypoints[0, k]) - out_keypoints[0, k]) < 0.1


def test_keypoints_follow_the_pixels_through_the_full_pipeline():
    keypoints = spread_keypoints()
    image = blob_image(keypoints)
    for seed in SEEDS:
        out_images, out_keypoints = augment_batch(image[None], keypoints[None], seed)
        for k in range(N_KEYPOINTS):
            assert np.linalg.norm(blob_centroid(out_images[0], out_keypoints[0, k]) - out_keypoints[0, k]) < 0.25


def test_rotation_preserves_distances_and_scale_scales_them_uniformly():
    keypoints = spread_keypoints()[None]
    blank = np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    before = pairwise_distances(keypoints[0])
    for seed in SEEDS:
        rotated = apply_augmenter(single_augmenter("rotate"), blank, keypoints, seed)[1][0]
        np.testing.assert_allclose(pairwise_distances(rotated), before, rtol=1e-4)
        everything = augment_batch(blank, keypoints, seed, AugmentConfig(flip_probability=0.0))[1][0]
        ratios = pairwise_distances(everything) / before
        assert 0.8 - 1e-4 <= ratios.mean() <= 1.2 + 1e-4
        np.testing.assert_allclose(ratios, ratios.mean(), rtol=1e-4)


def test_rotation_turns_about_the_image_centre():
    centre = np.full((1, 1, 2), (IMAGE_SIZE - 1) / 2, dtype=np.float32)
    blank = np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for seed in SEEDS:
        np.testing.assert_allclose(apply_augmenter(single_augmenter("rotate_scale"), blank, centre, seed)[1], centre,
                                   atol=1e-4)


# --- missing and lost keypoints ------------------------------------------------------------------------------------

def test_nan_stays_nan_and_never_becomes_a_number():
    images, keypoints = random_batch(5, 16, missing=0.5)
    for seed in SEEDS:
        out = augment_batch(images, keypoints, seed)[1]
        missing_after = np.isnan(out)
        assert np.all(missing_after[..., 0] == missing_after[..., 1])  # a keypoint is missing as a whole
        # a flip may move a missing label to its partner's slot, so compare counts per sample, and the unflipped case
        assert np.all(missing_after[..., 0].sum(1) >= np.isnan(keypoints[..., 0]).sum(1))
    unflipped = augment_batch(images, keypoints, 0, AugmentConfig(flip_probability=0.0))[1]
    assert np.all(np.isnan(unflipped[np.isnan(keypoints)]))


def test_out_of_frame_keypoints_become_nan_not_clipped():
    keypoints = np.array([[[90.0, 40.0], [50.0, 40.0], [3.0, 93.0]] + [[np.nan, np.nan]] * 12], dtype=np.float32)
    blank = np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    shifted = apply_augmenter(iaa.Affine(translate_px={"x": 10, "y": 5}), blank, keypoints, seed=0)[1][0]
    assert np.all(np.isnan(shifted[0]))  # x 100: outside
    np.testing.assert_allclose(shifted[1], [60.0, 45.0], atol=1e-4)
    assert np.all(np.isnan(shifted[2]))  # y 98: outside
    assert np.all(np.isnan(shifted[3:]))


def test_lost_keypoints_counts_the_newly_missing():
    before = np.array([[[1.0, 1.0], [np.nan, np.nan], [2.0, 2.0]]])
    after = np.array([[[np.nan, np.nan], [np.nan, np.nan], [2.0, 3.0]]])
    assert lost_keypoints(before, after) == (1, 2)


def test_drop_out_of_frame_keeps_the_frame_edges():
    points = np.array([[FRAME_MIN, FRAME_MAX], [FRAME_MAX, 0.0], [FRAME_MIN - 0.01, 10.0], [10.0, FRAME_MAX + 0.01]])
    kept = ~np.isnan(drop_out_of_frame(points)[:, 0])
    np.testing.assert_array_equal(kept, [True, True, False, False])


# --- determinism and inputs ----------------------------------------------------------------------------------------

def test_same_seed_repeats_and_different_seeds_differ():
    images, keypoints = random_batch(6, 8)
    for seed in SEEDS:
        first, second = augment_batch(images, keypoints, seed), augment_batch(images, keypoints, seed)
        np.testing.assert_array_equal(first[0], second[0])
        np.testing.assert_array_equal(first[1], second[1])
        other = augment_batch(images, keypoints, seed + 100)
        assert not np.array_equal(first[0], other[0])
        assert not np.array_equal(first[1], other[1], equal_nan=True)


def test_augment_batch_keeps_dtypes_and_inputs():
    images, keypoints = random_batch(7, 4)
    images_copy, keypoints_copy = images.copy(), keypoints.copy()
    out_images, out_keypoints = augment_batch(images, keypoints, 0)
    assert out_images.dtype == np.uint8 and out_images.shape == images.shape
    assert out_keypoints.dtype == np.float32 and out_keypoints.shape == keypoints.shape
    np.testing.assert_array_equal(images, images_copy)
    np.testing.assert_array_equal(keypoints, keypoints_copy)


def test_bad_inputs_and_names_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        augment_batch(np.zeros((2, IMAGE_SIZE, IMAGE_SIZE), np.float32), np.zeros((2, 15, 2)), 0)
    with pytest.raises(ValueError, match="keypoints"):
        augment_batch(np.zeros((2, IMAGE_SIZE, IMAGE_SIZE), np.uint8), np.zeros((3, 15, 2)), 0)
    with pytest.raises(KeyError, match="flipud"):
        single_augmenter("flipud")
    for name in SINGLE_AUGMENTERS:
        assert isinstance(single_augmenter(name), iaa.Augmenter)


# --- the Keras input pipeline --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_data() -> tuple[np.ndarray, np.ndarray]:
    return random_batch(8, 10)


def all_batches(sequence: AugmentedSequence) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every batch of the sequence's current epoch."""
    return [sequence[i] for i in range(len(sequence))]


def test_sequence_yields_model_shapes_and_dtypes(small_data):
    sequence = AugmentedSequence(*small_data, batch_size=4, seed=0)
    batches = all_batches(sequence)
    assert len(sequence) == 3 and [len(x) for x, _ in batches] == [4, 4, 2]
    for x, y in batches:
        assert x.dtype == np.float32 and x.shape[1:] == (IMAGE_SIZE, IMAGE_SIZE, 1)
        assert y.dtype == np.float32 and y.shape[1:] == (2 * N_KEYPOINTS,)
        assert 0.0 <= x.min() and x.max() <= 1.0
        assert np.isnan(y).any() and np.nanmax(y) <= FRAME_MAX  # pixels, NaN for missing
    with pytest.raises(IndexError):
        sequence[3]


def test_sequence_changes_between_epochs_and_repeats_for_a_seed(small_data):
    first, twin = AugmentedSequence(*small_data, batch_size=4, seed=1), AugmentedSequence(*small_data, batch_size=4, seed=1)
    epoch0 = all_batches(first)
    first.on_epoch_end()
    epoch1 = all_batches(first)
    assert not np.array_equal(epoch0[0][0], epoch1[0][0])
    for (x0, y0), (x1, y1) in zip(epoch0, all_batches(twin)):
        np.testing.assert_array_equal(x0, x1)
        np.testing.assert_array_equal(y0, y1)
    twin.set_epoch(1)
    np.testing.assert_array_equal(all_batches(twin)[1][0], epoch1[1][0])
    other = AugmentedSequence(*small_data, batch_size=4, seed=2)
    assert not np.array_equal(all_batches(other)[0][0], epoch0[0][0])


def test_validation_sequence_does_not_augment(small_data):
    images, keypoints = small_data
    sequence = AugmentedSequence(images, keypoints, batch_size=4, augment=False)
    for _ in range(2):
        x = np.concatenate([b[0] for b in all_batches(sequence)])
        y = np.concatenate([b[1] for b in all_batches(sequence)])
        np.testing.assert_array_equal(x[..., 0], images.astype(np.float32) / 255.0)
        np.testing.assert_array_equal(y, keypoints.reshape(len(keypoints), -1))
        sequence.on_epoch_end()


def fit_once(images: np.ndarray, keypoints: np.ndarray, workers: int) -> list[np.ndarray]:
    """Weights of a tiny model after 2 epochs of fit on an AugmentedSequence (seed 0)."""
    keras.utils.set_random_seed(0)
    sequence = AugmentedSequence(images, keypoints, batch_size=4, seed=0, workers=workers)
    model = keras.Sequential([keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1)), keras.layers.AveragePooling2D(8),
                              keras.layers.Flatten(), keras.layers.Dense(2 * N_KEYPOINTS)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(sequence, epochs=2, shuffle=False, verbose=0)
    return model.get_weights()


def test_sequence_feeds_keras_fit_repeatably_with_worker_threads(small_data):
    images, keypoints = small_data
    filled = np.nan_to_num(keypoints, nan=(IMAGE_SIZE - 1) / 2)  # plain mse here; masking NaN is the loss's job
    for first, second in zip(fit_once(images, filled, workers=2), fit_once(images, filled, workers=1)):
        np.testing.assert_array_equal(first, second)


# --- the notebook's consistency check on FKP-synth faces -------------------------------------------------------------

@pytest.fixture(scope="module")
def synth_faces() -> np.ndarray:
    """Two complete, plausible FKP-synth keypoint sets."""
    return load_synth_model().sample_shapes(np.random.default_rng(0), np.ones(2, bool)).astype(np.float32)


def test_alignment_shift_recovers_a_known_offset(synth_faces):
    keypoints = synth_faces[0]
    shift, ncc = alignment_shift_px(render_face(keypoints + np.array([0.3, -0.55]), CLEAN_STYLE), keypoints)
    np.testing.assert_allclose(shift, [0.3, -0.55], atol=0.03)
    assert ncc > 0.999


def test_consistency_table_passes_our_flip_and_catches_the_naive_one(synth_faces):
    transforms = demo_transforms(0)
    table = consistency_table(synth_faces, {name: transforms[name] for name in ("horizontal flip", "naive flip (bug)",
                                                                                 "rotation + scale")})
    assert table.loc["horizontal flip", "max_shift_px"] < 0.1 and table.loc["horizontal flip", "mean_ncc"] > 0.99
    assert table.loc["rotation + scale", "max_shift_px"] < 0.1
    assert table.loc["naive flip (bug)", "mean_ncc"] < 0.8
    assert list(table["faces"]) == [2, 2, 2]


def test_demo_transforms_keep_shapes(synth_faces):
    images = np.stack([render_face(k) for k in synth_faces])
    for name, transform in demo_transforms(1).items():
        out_images, out_keypoints = transform(images, synth_faces)
        assert out_images.shape == images.shape and out_images.dtype == np.uint8, name
        assert out_keypoints.shape == synth_faces.shape, name


def test_face_region_stays_in_frame():
    rows, cols = face_region(np.array([[2.0, 90.0], [60.0, 95.0]]), margin=8)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (82, IMAGE_SIZE, 0, 69)


def test_upright_fraction_drops_to_zero_under_a_vertical_flip(synth_faces):
    blank = np.zeros((len(synth_faces), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    assert upright_fraction(synth_faces) == 1.0
    assert upright_fraction(demo_vertical_flip(blank, synth_faces)[1]) == 0.0


def test_before_after_grid_has_a_row_per_transform(synth_faces):
    images = np.stack([render_face(k) for k in synth_faces])
    transforms = demo_transforms(0)
    fig = before_after_grid(images, synth_faces, {n: transforms[n] for n in ("horizontal flip", "rotation + scale")})
    assert len(fig.axes) == 3 * len(images)
    assert [ax.get_title() for ax in fig.axes[:: len(images)]] == ["original", "horizontal flip", "rotation + scale"]
    matplotlib.pyplot.close(fig)
