import hashlib

import numpy as np
import pytest

from fkp_helpers.data.splits import (
    first_appearance_ids,
    image_groups,
    merge_groups,
    train_val_split,
    training_split,
)


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


def split_expectation_images() -> np.ndarray:
    """300 random images with two sets of exact copies, the input of the stored split expectations."""
    images = np.random.default_rng(2024).integers(0, 256, size=(300, 96, 96), dtype=np.uint8)
    images[250:270] = images[7]
    images[[11, 99, 201]] = images[3]
    return images


def digest(index: np.ndarray) -> str:
    return hashlib.sha256(index.tobytes()).hexdigest()[:16]


def test_split_without_groups_is_unchanged_byte_for_byte():
    # computed with train_val_split and training_split as they were before ``groups`` existed: published numbers
    # depend on these splits
    images = split_expectation_images()
    assert [digest(i) for i in train_val_split(images, 0.2, 0)] == ["72257a43481874f4", "a6ff05352337a056"]
    assert [digest(i) for i in train_val_split(images, 0.2, 5, groups=None)] == ["d51384fb931f37e4", "57b7e897a1d539a6"]
    split = training_split(images, 0.25, 3, 100)
    assert [digest(split[k]) for k in ("train_index", "val_index", "train_pool_index")] == [
        "02d15601208e5264", "2f6881d15f376ef7", "7530ccd81bf624b4"]
    assert all(v.dtype == np.int64 for v in split.values())


def test_split_keeps_whole_groups_on_one_side_with_about_the_val_fraction(rng):
    images = rng.integers(0, 256, size=(600, 96, 96), dtype=np.uint8)
    persons = [f"person_{i}" for i in rng.integers(0, 60, 600)]  # about ten rows each
    for seed in range(5):
        train, val = train_val_split(images, 0.2, seed, groups=persons)
        assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 600
        assert not {persons[i] for i in train} & {persons[i] for i in val}
        assert 0.17 <= len(val) / 600 <= 0.26
    assert not np.array_equal(train_val_split(images, 0.2, 0, persons)[1], train_val_split(images, 0.2, 0)[1])


def test_groups_merge_with_exact_duplicates_and_take_any_hashable_label(rng):
    images = rng.integers(0, 256, size=(100, 96, 96), dtype=np.uint8)
    images[50] = images[0]  # an exact copy in another group still goes with it, and so does its group
    groups = [(i // 10, "clip") for i in range(100)]
    for seed in range(4):
        split = training_split(images, 0.3, seed, max_train_images=40, groups=groups)
        train_side, val = set(split["train_pool_index"].tolist()), set(split["val_index"].tolist())
        together = set(range(0, 10)) | set(range(50, 60))
        assert together <= train_side or together <= val
        assert len(split["train_index"]) == 40 and set(split["train_index"]) <= train_side


def test_bad_groups_are_refused(rng):
    images = rng.integers(0, 256, size=(4, 96, 96), dtype=np.uint8)
    with pytest.raises(ValueError, match="3 labels for 4 images"):
        train_val_split(images, groups=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"missing labels .* rows \[2\]"):
        train_val_split(images, groups=["a", "b", None, "c"])


def test_merge_and_first_appearance_ids():
    assert first_appearance_ids(["b", "a", "b", "c"]).tolist() == [0, 1, 0, 2]
    assert merge_groups(np.array([0, 1, 2, 3, 1]), np.array([5, 5, 6, 7, 6])).tolist() == [0, 0, 0, 1, 0]
