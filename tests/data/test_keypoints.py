import numpy as np
import pytest

from fkp_helpers.data.keypoints import (
    ALWAYS_LABELLED,
    complete_rows,
    COORDINATE_COLUMNS,
    FLIP_PAIRS,
    FLIP_PERMUTATION,
    KEYPOINT_NAMES,
    flip_keypoints_horizontally,
    keypoint_index,
    to_coordinate_array,
    to_keypoint_array,
)


def test_column_order_is_kaggles():
    assert len(COORDINATE_COLUMNS) == 30
    assert COORDINATE_COLUMNS[:4] == ("left_eye_center_x", "left_eye_center_y", "right_eye_center_x", "right_eye_center_y")
    assert COORDINATE_COLUMNS[-2:] == ("mouth_center_bottom_lip_x", "mouth_center_bottom_lip_y")


def test_real_training_header_matches(real_labels_dir):
    header = (real_labels_dir / "training_keypoints.csv").open().readline().strip().split(",")
    assert tuple(header) == COORDINATE_COLUMNS


def test_flip_pairs_cover_every_left_right_keypoint():
    sided = {n for n in KEYPOINT_NAMES if "left" in n or "right" in n}
    paired = {n for pair in FLIP_PAIRS for n in pair}
    assert paired == sided
    for left, right in FLIP_PAIRS:
        assert left.replace("left", "right") == right
    assert set(ALWAYS_LABELLED) <= set(KEYPOINT_NAMES)


def test_flip_permutation_is_an_involution_that_fixes_the_midline():
    assert np.array_equal(FLIP_PERMUTATION[FLIP_PERMUTATION], np.arange(15))
    for name in ("nose_tip", "mouth_center_top_lip", "mouth_center_bottom_lip"):
        assert FLIP_PERMUTATION[keypoint_index(name)] == keypoint_index(name)
    assert FLIP_PERMUTATION[keypoint_index("left_eye_center")] == keypoint_index("right_eye_center")


def test_flip_mirrors_x_swaps_labels_and_keeps_nan(rng):
    keypoints = rng.uniform(0, 95, size=(5, 15, 2))
    keypoints[0, 3] = np.nan
    flipped = flip_keypoints_horizontally(keypoints)
    left, right = keypoint_index("left_eye_center"), keypoint_index("right_eye_center")
    assert flipped[1, left, 0] == pytest.approx(95 - keypoints[1, right, 0])
    assert flipped[1, left, 1] == keypoints[1, right, 1]
    assert np.isnan(flipped[0, FLIP_PERMUTATION[3]]).all()
    np.testing.assert_allclose(flip_keypoints_horizontally(flipped), keypoints)


def test_reshape_round_trip_and_errors():
    coords = np.arange(60.0).reshape(2, 30)
    keypoints = to_keypoint_array(coords)
    assert keypoints[0, 1].tolist() == [2.0, 3.0]
    assert np.array_equal(to_coordinate_array(keypoints), coords)
    with pytest.raises(ValueError, match="30 coordinates"):
        to_keypoint_array(np.zeros((2, 29)))
    with pytest.raises(KeyError, match="unknown keypoint 'nose'"):
        keypoint_index("nose")


def test_complete_rows_marks_rows_with_every_coordinate():
    y = np.zeros((5, 15, 2))
    y[1, 3, 0] = np.nan
    np.testing.assert_array_equal(complete_rows(y), [True, False, True, True, True])
    np.testing.assert_array_equal(complete_rows(y.reshape(5, 30)), [True, False, True, True, True])
