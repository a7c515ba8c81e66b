import numpy as np
import pytest

from fkp_helpers.splits import image_groups, train_val_split


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
