import numpy as np
import pytest

from fkp_helpers.data.synth_model import load_synth_model
from fkp_helpers.eda.data_quality import duplicate_images, image_statistics, robust_z, shape_outliers, sharpness


def test_duplicates_and_their_label_disagreement(rng):
    images = rng.integers(0, 256, size=(5, 96, 96), dtype=np.uint8)
    images[3] = images[0]
    keypoints = np.full((5, 15, 2), 40.0)
    keypoints[3, 2] += [3.0, 4.0]
    keypoints[3, 5] = np.nan
    table = duplicate_images(images, keypoints)
    assert table["rows"].tolist() == [[0, 3]] and table["label_disagreement_px"].iloc[0] == pytest.approx(5.0)
    assert duplicate_images(images[:3], keypoints[:3]).empty


def test_shape_outliers_find_the_moved_keypoint():
    mean = load_synth_model().mean_shape
    faces = np.stack([mean + 48, mean * 1.1 + 47, mean + 50])
    faces[2, 13] += [0.0, 15.0]
    table = shape_outliers(faces, mean, threshold_px=6.0)
    assert table["row"].tolist() == [2] and table["worst_keypoint"].iloc[0] == "mouth_center_top_lip"


def test_unusual_brightness_is_flagged(rng):
    images = rng.integers(100, 140, size=(30, 96, 96)).astype(np.uint8)
    images[7] = 250
    stats = image_statistics(images)
    assert stats.index[stats.unusual].tolist() == [7]
    assert robust_z(np.array([1.0, 1.0, 1.0]))[0] == 0.0


def test_sharpness_is_low_for_blurred_images_and_flags_them(rng):
    images = rng.integers(0, 256, size=(30, 96, 96)).astype(np.uint8)
    blurred = images[3].astype(np.float32)
    for _ in range(6):  # a few box-blur passes
        blurred = (blurred + np.roll(blurred, 1, 0) + np.roll(blurred, 1, 1) + np.roll(blurred, (1, 1), (0, 1))) / 4
    images[3] = blurred.astype(np.uint8)
    values = sharpness(images)
    assert values[3] < 0.05 * np.median(values)
    flat = np.full((2, 96, 96), 80, dtype=np.uint8)
    assert sharpness(flat).tolist() == [0.0, 0.0]
    stats = image_statistics(images)
    assert 3 in stats.index[stats.unusual] and stats.loc[3, "sharpness_z"] < -3.5
