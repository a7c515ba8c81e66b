from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fkp_helpers.data.keypoints import KEYPOINT_NAMES, keypoint_index
from fkp_helpers.data.landmarks68 import IBUG68_FOR_KAGGLE, N_IBUG68, kaggle_keypoints_from_ibug68

UDACITY = Path(__file__).resolve().parents[3] / "shared" / "data" / "udacity-p1-faces"


BROKEN_ANNOTATIONS = ("Marieta_Chrousala_12.jpg",)
"""Shared faces whose landmarks a detector got wrong (jaw points 12-16 and the mouth's left corner up on the cheek)."""
POSE_TOLERANCE_IOD = {"eye": 0.05, "mouth": 0.15}
"""How far (in inter-pupil distances) a corner may cross its neighbour: the landmarks are a detector's, and some
faces are turned or pitched strongly (worst cases in the shared set: 0.03 for the eye centres, 0.10 for the mouth
corners of a man looking down)."""


@pytest.fixture(scope="module")
def shared_keypoints() -> np.ndarray:
    """Kaggle's 15 keypoints of every shared Udacity face with a sound annotation, in its own pixels."""
    tables = [UDACITY / "training_frames_keypoints.csv", UDACITY / "test_frames_keypoints.csv"]
    if not all(t.is_file() for t in tables):
        pytest.skip(f"the shared Udacity faces are not in {UDACITY} (see its README for the source)")
    landmarks = pd.concat([pd.read_csv(t, index_col=0) for t in tables])
    assert len(landmarks) == 3575
    landmarks = landmarks.drop(index=list(BROKEN_ANNOTATIONS)).to_numpy(dtype=float)
    return kaggle_keypoints_from_ibug68(landmarks.reshape(-1, N_IBUG68, 2))


def k(keypoints: np.ndarray, name: str) -> np.ndarray:
    return keypoints[:, keypoint_index(name)]


def eye_frame(keypoints: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(along, down) coordinates of a keypoint in inter-pupil distances from the eyes' midpoint: along the line from
    the person's right to left eye centre, and perpendicular to it towards the chin, so head roll does not matter."""
    left, right = k(keypoints, "left_eye_center"), k(keypoints, "right_eye_center")
    iod = np.linalg.norm(left - right, axis=1, keepdims=True)
    across = (left - right) / iod
    down = np.stack([-across[:, 1], across[:, 0]], axis=1)
    offset = (k(keypoints, name) - (left + right) / 2) / iod
    return (offset * across).sum(axis=1), (offset * down).sum(axis=1)


def test_every_kaggle_keypoint_has_a_mapping_in_order():
    assert tuple(IBUG68_FOR_KAGGLE) == KEYPOINT_NAMES
    used = [i for points in IBUG68_FOR_KAGGLE.values() for i in points]
    assert all(0 <= i < N_IBUG68 for i in used)


def test_eye_centres_are_the_mean_of_the_six_contour_points_and_corners_are_points():
    points = np.random.default_rng(0).uniform(0, 100, (3, N_IBUG68, 2))
    out = kaggle_keypoints_from_ibug68(points)
    assert out.shape == (3, 15, 2)
    np.testing.assert_allclose(k(out, "right_eye_center"), points[:, 36:42].mean(axis=1))
    np.testing.assert_allclose(k(out, "left_eye_center"), points[:, 42:48].mean(axis=1))
    np.testing.assert_array_equal(k(out, "right_eye_outer_corner"), points[:, 36])
    np.testing.assert_array_equal(k(out, "mouth_left_corner"), points[:, 54])


def test_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"\(N, 68, 2\)"):
        kaggle_keypoints_from_ibug68(np.zeros((2, 15, 2)))


def test_the_persons_left_eye_is_on_the_images_right(shared_keypoints):
    assert (k(shared_keypoints, "left_eye_center")[:, 0] > k(shared_keypoints, "right_eye_center")[:, 0]).all()


def test_inner_corners_between_the_outer_ones_and_brow_ends_in_order(shared_keypoints):
    along = {name: eye_frame(shared_keypoints, name)[0] for name in KEYPOINT_NAMES}
    order = ["right_eye_outer_corner", "right_eye_inner_corner", "left_eye_inner_corner", "left_eye_outer_corner"]
    for first, second in zip(order, order[1:]):
        assert (along[first] < along[second]).all(), f"{first} left of {second} in the image"
    assert (along["mouth_right_corner"] < along["mouth_left_corner"]).all()
    # a strongly turned head folds its far brow, so the brow ends' order holds on nearly every face, not all
    assert np.mean(along["right_eyebrow_outer_end"] < along["right_eyebrow_inner_end"]) > 0.99
    assert np.mean(along["left_eyebrow_inner_end"] < along["left_eyebrow_outer_end"]) > 0.99


def test_eye_corners_either_side_of_their_eye_centre(shared_keypoints):
    along = {name: eye_frame(shared_keypoints, name)[0] for name in KEYPOINT_NAMES}
    tolerance = POSE_TOLERANCE_IOD["eye"]
    for side in ("left", "right"):
        centre = along[f"{side}_eye_center"]
        inner, outer = along[f"{side}_eye_inner_corner"], along[f"{side}_eye_outer_corner"]
        low, high = (inner, outer) if side == "left" else (outer, inner)
        assert (low < centre + tolerance).all() and (centre < high + tolerance).all(), side
        assert np.mean((low < centre) & (centre < high)) > 0.99


def test_nose_below_the_eyes_and_the_mouth_below_the_nose(shared_keypoints):
    down = {name: eye_frame(shared_keypoints, name)[1] for name in KEYPOINT_NAMES}
    assert (down["nose_tip"] > 0).all()
    for lip in ("mouth_center_top_lip", "mouth_center_bottom_lip"):
        assert (down[lip] > down["nose_tip"]).all(), lip
    for corner in ("mouth_left_corner", "mouth_right_corner"):
        assert (down[corner] > down["nose_tip"] - POSE_TOLERANCE_IOD["mouth"]).all(), corner
        assert np.mean(down[corner] > down["nose_tip"]) > 0.99
    assert (down["mouth_center_top_lip"] < down["mouth_center_bottom_lip"]).all()
    for brow in ("left_eyebrow_inner_end", "right_eyebrow_inner_end"):
        assert (down[brow] < 0).all(), f"{brow} above the eyes"
