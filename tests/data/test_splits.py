import numpy as np
import pytest

from fkp_helpers.data.splits import image_groups, train_val_split, training_split


def test_image_groups_mark_exact_duplicates(rng):
    images = rng.integers(0, 256, size=(6, 96, 96), dtype=np.uint8)
    images[4] = images[1]
    images[5] = images[1]
    assert image_groups(images).tolist() == [0, 1, 2, 3, 1, 1]


def test_split_keeps_duplicates_together_and_is_seeded(rng):
    images = rng.integers(0, 256, size=(200, 96, 96), dtype=np.uint8)
    images[100:110] = images[5]
    train, val = train_val_split(images, 0.2, seed=3)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 200
    copies = set(range(100, 110)) | {5}
    assert copies <= set(train.tolist()) or copies <= set(val.tolist())
    assert 30 <= len(val) <= 60
    again = train_val_split(images, 0.2, seed=3)
    assert np.array_equal(again[1], val)
    assert not np.array_equal(train_val_split(images, 0.2, seed=4)[1], val)
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(images, 1.5)


def test_training_split_caps_training_rows_only():
    images = np.random.default_rng(0).integers(0, 255, (50, 96, 96), dtype=np.uint8)
    images[1] = images[0]
    split = training_split(images, val_fraction=0.2, seed=0, max_train_images=20)
    train, val, pool = split["train_index"], split["val_index"], split["train_pool_index"]
    assert len(train) == 20 and set(train) <= set(pool) and not set(pool) & set(val)
    assert len(pool) + len(val) == 50 and np.all(np.diff(train) > 0)
    assert ({0, 1} <= set(pool)) or ({0, 1} <= set(val))
    np.testing.assert_array_equal(training_split(images, 0.2, 0, 20)["train_index"], train)
    assert len(training_split(images, 0.2, 0, None)["train_index"]) == len(pool)
