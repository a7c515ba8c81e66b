from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from fkp_helpers.data import near_duplicates
from fkp_helpers.data.framing import similarity_matrix, to_mean_frame, warp_to_frame
from fkp_helpers.data.landmarks68 import kaggle_keypoints_from_ibug68
from fkp_helpers.data.near_duplicates import (
    DEFAULT_THRESHOLD,
    group_summary,
    grouping_agreement,
    near_duplicate_groups,
    near_duplicate_pairs,
    thumbnail_features,
)
from fkp_helpers.data.splits import image_groups
from fkp_helpers.data.synth_model import load_synth_model
from fkp_helpers.data.udacity import read_udacity

UDACITY = Path(__file__).resolve().parents[3] / "shared" / "data" / "udacity-p1-faces"


def smooth_images(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 96, 96)`` uint8 unrelated smooth random images (blurred noise, full grey range): structure at the scale
    of a face's features, so a one-pixel shift changes little (as on the real faces: thumbnail correlation of a copy
    shifted by 1 px at least 0.965, by 2 px 0.87)."""
    noise = rng.normal(size=(n, 96, 96)).astype(np.float32)
    blurred = np.stack([cv2.GaussianBlur(image, (0, 0), 5.0) for image in noise])
    low, high = blurred.min(axis=(1, 2), keepdims=True), blurred.max(axis=(1, 2), keepdims=True)
    return np.rint(20 + 200 * (blurred - low) / (high - low)).astype(np.uint8)


def test_exact_copies_share_a_group_even_when_constant(rng):
    images = smooth_images(rng, 5)
    images[3] = images[0]
    images[1] = images[4] = 128  # constant images have no correlation with anything, yet are exact copies
    assert near_duplicate_groups(images).tolist() == [0, 1, 2, 0, 1]


def test_shifted_and_brightened_copies_link_and_unrelated_images_do_not(rng):
    base = smooth_images(rng, 12)
    shifted = np.roll(base[0], 1, axis=1)
    brighter = np.clip(base[1].astype(int) * 1.15 + 20, 0, 255).astype(np.uint8)
    darker_shifted = np.clip(np.roll(base[2], -1, axis=0).astype(int) * 0.8 - 5, 0, 255).astype(np.uint8)
    images = np.concatenate([base, [shifted, brighter, darker_shifted]])
    groups = near_duplicate_groups(images)
    assert groups.tolist() == list(range(12)) + [0, 1, 2]
    summary = group_summary(groups)["count"]
    assert summary["groups"] == 12 and summary["groups of 2+ images"] == 3 and summary["largest group"] == 2
    assert summary["images in groups of 2+"] == 6 and summary["images"] == 15


def test_unrelated_random_images_stay_apart(rng):
    images = np.concatenate([rng.integers(0, 256, (150, 96, 96), dtype=np.uint8), smooth_images(rng, 150)])
    np.testing.assert_array_equal(near_duplicate_groups(images), np.arange(300))


def test_thumbnail_correlation_ignores_brightness_and_contrast(rng):
    image = smooth_images(rng, 1)[0]
    features = thumbnail_features(np.stack([image, (image // 2 + 60).astype(np.uint8)]))
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-5)
    assert features[0] @ features[1] > 0.999


def test_pairs_in_blocks_are_every_pair_above_the_threshold(rng, monkeypatch):
    images = smooth_images(rng, 40)
    images[20:] = np.clip(images[:20].astype(int) + rng.integers(-40, 40, (20, 96, 96)), 0, 255)  # noisy copies
    features = thumbnail_features(images)
    similarity = features @ features.T
    expected = {(i, j) for i, j in zip(*np.nonzero(similarity >= 0.8)) if i < j}
    monkeypatch.setattr(near_duplicates, "BLOCK_ROWS", 7)  # pairs across block boundaries
    pairs = near_duplicate_pairs(images, 0.8)
    assert set(zip(pairs["first"], pairs["second"])) == expected and len(pairs) == len(expected) >= 20
    np.testing.assert_allclose(pairs["similarity"], similarity[pairs["first"], pairs["second"]], rtol=1e-5)


def test_groups_chain_through_links_and_are_numbered_by_first_appearance(rng):
    images = smooth_images(rng, 4)
    images = np.stack([images[0], images[1], np.roll(images[0], 1, axis=1), images[2], np.roll(images[0], 2, axis=1)])
    assert near_duplicate_groups(images).tolist() == [0, 1, 0, 2, 0]
    assert near_duplicate_groups(images, threshold=1.01).tolist() == image_groups(images).tolist() == [0, 1, 2, 3, 4]


def test_grouping_agreement_counts_mixed_groups_and_pairs():
    groups = np.array([0, 0, 0, 1, 1, 2, 3])
    truth = ["a", "a", "b", "c", "c", "c", "d"]
    pairs = pd.DataFrame({"first": [0, 1, 3, 4], "second": [1, 2, 4, 5], "similarity": 0.99})
    agreement = grouping_agreement(groups, truth, pairs)
    assert agreement["groups of 2+ images"] == 2 and agreement["purity"] == 0.5
    assert agreement["images in mixed groups"] == 3
    assert agreement["pair recall"] == pytest.approx(2 / 4)  # a-a, c-c linked of a-a, c-c x3
    assert agreement["pair precision"] == pytest.approx(2 / 4)  # a-a, c-c of the 3 + 1 pairs in groups
    assert agreement["links"] == 4 and agreement["cross-truth links"] == 1
    assert near_duplicate_groups(np.zeros((0, 96, 96), np.uint8)).shape == (0,)


@pytest.fixture(scope="module")
def real_faces_at_mean_pose() -> tuple[np.ndarray, np.ndarray]:
    """1500 of the shared real faces framed at the real labels' mean pose with a little jitter (every face aligned
    alike: the hard case for telling people apart), and their persons."""
    if not (UDACITY / "training_frames_keypoints.csv").is_file():
        pytest.skip(f"the shared Udacity faces are not in {UDACITY} (see its README for the source)")
    faces, model, rng = read_udacity(UDACITY), load_synth_model(), np.random.default_rng(0)
    keep = np.argsort(faces.persons, kind="stable")[:1500]  # whole people, about a dozen frames each
    images = []
    for row in keep:
        points = kaggle_keypoints_from_ibug68(faces.landmarks[row][None])[0]
        log_scale, angle, tx, ty = model.pose_mean["complete"] + rng.normal(size=4) * [0.03, 0.035, 1.5, 1.5]
        pose = similarity_matrix(np.exp(log_scale), angle, np.array([tx, ty]))
        images.append(warp_to_frame(faces.images[row], pose @ to_mean_frame(points, model.mean_shape, "complete"))[0])
    return np.stack(images), np.array(faces.persons)[keep]


def test_groups_of_real_faces_stay_within_one_person(real_faces_at_mean_pose):
    images, persons = real_faces_at_mean_pose
    groups = near_duplicate_groups(images)
    agreement = grouping_agreement(groups, persons, near_duplicate_pairs(images, DEFAULT_THRESHOLD))
    assert agreement["groups of 2+ images"] >= 20, "frames of one clip are found"
    assert agreement["purity"] >= 0.97
    assert agreement["cross-truth links"] <= 0.03 * agreement["links"]
