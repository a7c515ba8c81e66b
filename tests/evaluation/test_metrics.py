"""Metrics against values computed by hand on tiny arrays."""
import math

import numpy as np
import pytest

from fkp_helpers.data.keypoints import KEYPOINT_NAMES, keypoint_index
from fkp_helpers.evaluation import metrics, tables

LE, RE = keypoint_index("left_eye_center"), keypoint_index("right_eye_center")
NOSE, MOUTH_LEFT = keypoint_index("nose_tip"), keypoint_index("mouth_left_corner")


def tiny_case():
    """Two faces, four labelled points; every other truth is NaN and every other prediction 48.

    row 0: left eye   true (60, 40) predicted (63, 44): dx=3 dy=4, distance 5
           right eye  true (30, 40) predicted (30, 40): 0
           mouth left true (60, 70) predicted (61, 70): dx=1, distance 1
    row 1: nose       true (45, 60) predicted (45, 62): dy=2, distance 2   (no eyes: left out of the IOD metrics)
    Row 0's inter-pupil distance is 30.
    """
    truth = np.full((2, 15, 2), np.nan, dtype=np.float32)
    predicted = np.full((2, 15, 2), 48.0, dtype=np.float32)
    truth[0, LE], predicted[0, LE] = (60, 40), (63, 44)
    truth[0, RE], predicted[0, RE] = (30, 40), (30, 40)
    truth[0, MOUTH_LEFT], predicted[0, MOUTH_LEFT] = (60, 70), (61, 70)
    truth[1, NOSE], predicted[1, NOSE] = (45, 60), (45, 62)
    return predicted, truth


def test_rmse_and_mae_by_hand():
    predicted, truth = tiny_case()
    # squared coordinate errors: 9, 16, 0, 0, 1, 0, 0, 4 -> 30 / 8
    assert metrics.rmse_px(predicted, truth) == pytest.approx(math.sqrt(30 / 8))
    # absolute: 3 + 4 + 0 + 0 + 1 + 0 + 0 + 2 = 10 over 8
    assert metrics.mae_px(predicted, truth) == pytest.approx(10 / 8)


def test_per_keypoint_and_subsets_by_hand():
    predicted, truth = tiny_case()
    per = metrics.per_keypoint_rmse(predicted, truth)
    assert per[LE] == pytest.approx(math.sqrt(25 / 2))
    assert per[RE] == 0
    assert per[MOUTH_LEFT] == pytest.approx(math.sqrt(1 / 2))
    assert per[NOSE] == pytest.approx(math.sqrt(4 / 2))
    others = [k for k in range(15) if k not in (LE, RE, MOUTH_LEFT, NOSE)]
    assert np.isnan(per[others]).all()
    subsets = metrics.subset_rmse(predicted, truth)
    assert subsets["always_labelled_4"] == pytest.approx(math.sqrt(29 / 6))  # 9 + 16 + 0 + 0 + 0 + 4
    assert subsets["other_11"] == pytest.approx(math.sqrt(1 / 2))
    assert subsets["all_15"] == pytest.approx(math.sqrt(30 / 8))


def test_per_keypoint_errors_standard_error():
    truth = np.zeros((2, 15, 2))
    predicted = np.zeros((2, 15, 2))
    predicted[0, NOSE] = (2, 0)  # squared point errors (mean of dx^2, dy^2): 2 and 0 -> mse 1, rmse 1
    table = metrics.per_keypoint_errors(predicted, truth)
    assert list(table.index) == list(KEYPOINT_NAMES)
    assert table.loc["nose_tip", "rmse_px"] == pytest.approx(1.0)
    # sd(2, 0) = sqrt(2); se(mse) = sqrt(2)/sqrt(2) = 1; se(rmse) = 1 / (2 * 1)
    assert table.loc["nose_tip", "rmse_se_px"] == pytest.approx(0.5)
    assert table.loc["left_eye_center", "rmse_se_px"] == 0
    assert (table["n_labelled"] == 2).all()


def test_pck_by_hand():
    predicted, truth = tiny_case()  # distances 5, 0, 1, 2
    assert metrics.pck(predicted, truth, 2) == pytest.approx(3 / 4)
    assert metrics.pck(predicted, truth, 0.5) == pytest.approx(1 / 4)
    assert metrics.pck(predicted, truth, 5) == 1.0
    np.testing.assert_allclose(metrics.pck_curve(predicted, truth, [0.5, 1, 2, 5]), [0.25, 0.5, 0.75, 1.0])


def test_iod_metrics_by_hand():
    predicted, truth = tiny_case()
    iod = metrics.inter_pupil_distance(truth)
    assert iod[0] == pytest.approx(30) and np.isnan(iod[1])
    # row 0 only: normalised distances 5/30, 0, 1/30
    assert metrics.nme_iod(predicted, truth) == pytest.approx((6 / 30) / 3)
    assert metrics.pck_iod(predicted, truth, 0.1) == pytest.approx(2 / 3)  # within 3 px
    assert metrics.pck_iod(predicted, truth, 0.2) == 1.0  # within 6 px
    np.testing.assert_allclose(metrics.pck_curve(predicted, truth, [0.01, 0.1, 0.2], normalised=True), [1 / 3, 2 / 3, 1])


def test_all_missing_labels_give_nan():
    predicted = np.full((3, 15, 2), 40.0)
    truth = np.full((3, 15, 2), np.nan)
    for value in (
        metrics.rmse_px(predicted, truth),
        metrics.mae_px(predicted, truth),
        metrics.pck(predicted, truth, 2),
        metrics.pck_iod(predicted, truth, 0.1),
        metrics.nme_iod(predicted, truth),
    ):
        assert np.isnan(value)
    assert np.isnan(metrics.per_keypoint_rmse(predicted, truth)).all()
    assert np.isnan(metrics.pck_curve(predicted, truth, [1, 2])).all()


def test_rows_without_both_eyes_are_left_out_of_iod_metrics():
    predicted, truth = tiny_case()
    truth[0, RE] = np.nan  # now no row has both eyes
    assert np.isnan(metrics.nme_iod(predicted, truth))
    assert np.isnan(metrics.pck_iod(predicted, truth, 0.1))
    assert metrics.pck(predicted, truth, 2) == pytest.approx(2 / 3)  # distances 5, 1, 2 still count


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_predictions_raise(bad):
    predicted, truth = tiny_case()
    predicted[1, 3, 1] = bad  # even where the truth is missing
    with pytest.raises(ValueError, match=f"row 1, {KEYPOINT_NAMES[3]}_y"):
        metrics.rmse_px(predicted, truth)


def test_shape_mismatch_raises():
    predicted, truth = tiny_case()
    with pytest.raises(ValueError, match="shape"):
        metrics.rmse_px(predicted[:1], truth)
    with pytest.raises(ValueError, match="shape"):
        metrics.rmse_px(predicted[:, :14], truth[:, :14])


def test_evaluation_table_rows_and_columns():
    predicted, truth = tiny_case()
    perfect = np.where(np.isnan(truth), 48.0, truth)
    table = tables.evaluation_table({"tiny": predicted, "perfect": perfect}, truth, pck_radii_px=(2,), pck_fractions=(0.1,))
    assert list(table.index) == ["tiny", "perfect"]
    assert table.index.name == "model"
    assert list(table.columns[:7]) == [
        "rmse_px", "mae_px", "rmse_always_labelled_4_px", "rmse_other_11_px", "pck_2px", "pck_0.1iod", "nme_iod"
    ]
    assert list(table.columns[7:]) == [f"rmse_{name}_px" for name in KEYPOINT_NAMES]
    assert table.loc["tiny", "rmse_px"] == pytest.approx(math.sqrt(30 / 8))
    assert table.loc["tiny", "pck_2px"] == pytest.approx(3 / 4)
    assert table.loc["perfect", "rmse_px"] == 0 and table.loc["perfect", "pck_0.1iod"] == 1
    assert table.loc["tiny", "rmse_left_eye_center_px"] == pytest.approx(math.sqrt(12.5))
    narrow = tables.evaluation_table({"tiny": predicted}, truth, per_keypoint=False)
    assert "rmse_nose_tip_px" not in narrow.columns


def test_noise_floor_row_by_hand():
    predicted, truth = tiny_case()
    table = tables.evaluation_table({"tiny": predicted}, truth, noise_floor=1.0, pck_radii_px=(2,), pck_fractions=(0.1,))
    floor = table.loc[tables.NOISE_FLOOR_ROW]
    assert list(table.index) == ["tiny", tables.NOISE_FLOOR_ROW]
    assert floor["rmse_px"] == 1.0 and floor["rmse_other_11_px"] == 1.0
    assert floor["mae_px"] == pytest.approx(math.sqrt(2 / math.pi))
    assert floor["pck_2px"] == pytest.approx(1 - math.exp(-2))  # Rayleigh: 1 - exp(-r^2 / 2)
    assert floor["pck_0.1iod"] == pytest.approx(1 - math.exp(-4.5))  # 3 px on row 0's 3 points
    assert floor["nme_iod"] == pytest.approx(math.sqrt(math.pi / 2) / 30)
    assert floor["rmse_nose_tip_px"] == 1.0
    assert np.isnan(floor["rmse_left_eyebrow_inner_end_px"])  # never labelled


def test_noise_floor_matches_a_perfect_model_on_noisy_labels():
    rng = np.random.default_rng(0)
    clean = rng.uniform(20, 76, size=(4000, 15, 2))
    clean[:, LE], clean[:, RE] = (64, 40), (32, 40)
    noisy = clean + rng.normal(0, 1.5, size=clean.shape)
    measured = tables.metric_row(clean, noisy)
    expected = tables.noise_floor_row(noisy, 1.5)
    for column in ("rmse_px", "mae_px", "pck_2px", "pck_4px", "pck_0.05iod", "pck_0.1iod", "nme_iod"):
        assert measured[column] == pytest.approx(expected[column], rel=0.03), column


def test_model_name_may_not_clash_with_noise_floor():
    predicted, truth = tiny_case()
    with pytest.raises(ValueError, match="noise floor"):
        tables.evaluation_table({tables.NOISE_FLOOR_ROW: predicted}, truth, noise_floor=1.0)


def test_per_image_rmse_and_best_and_worst():
    predicted, truth = tiny_case()
    per_image = metrics.per_image_rmse(predicted, truth)
    np.testing.assert_allclose(per_image, [np.sqrt(26 / 6), np.sqrt(4 / 2)])  # row 0: 9+16+0+0+1+0 over 6
    empty = np.vstack([truth, np.full((1, 15, 2), np.nan)])
    assert np.isnan(metrics.per_image_rmse(np.vstack([predicted, predicted[:1]]), empty)[2])
    best, worst = metrics.best_and_worst(np.array([3.0, np.nan, 1.0, 2.0, 5.0]), 2)
    assert best.tolist() == [2, 3] and worst.tolist() == [4, 0]


def test_per_keypoint_pck_by_hand():
    predicted, truth = tiny_case()
    per = metrics.per_keypoint_pck(predicted, truth, 2)
    assert per[LE] == 0 and per[RE] == 1 and per[MOUTH_LEFT] == 1 and per[NOSE] == 1
    assert np.isnan(per[keypoint_index("mouth_right_corner")])


def test_per_keypoint_failures_rate_and_its_standard_error():
    predicted, truth = tiny_case()  # distances: left eye 5, right eye 0, mouth left 1, nose 2
    predicted, truth = np.vstack([predicted, predicted]), np.vstack([truth, truth])
    predicted[2, LE] = truth[2, LE]  # the copy's left eye is exact: 1 of its 2 labelled rows fails at radius 2
    report = metrics.per_keypoint_failures(predicted, truth, 2)
    assert report.index[0] == "left_eye_center"
    assert report.loc["left_eye_center", "failure_rate"] == pytest.approx(0.5)
    assert report.loc["left_eye_center", "failure_rate_se"] == pytest.approx(np.std([1, 0], ddof=1) / math.sqrt(2))
    one_person = metrics.per_keypoint_failures(predicted, truth, 2, clusters=np.array(["a", "b", "a", "b"]))
    assert np.isnan(one_person.loc["left_eye_center", "failure_rate_se"]), "both its rows are person a's: one unit"
    assert one_person.loc["left_eye_center", "failure_rate"] == pytest.approx(0.5)
    assert report.loc["nose_tip", "failure_rate"] == 0 and report.loc["nose_tip", "failure_rate_se"] == 0
    never = report.loc["mouth_right_corner"]
    assert never["n_labelled"] == 0 and np.isnan(never["failure_rate"]) and np.isnan(never["failure_rate_se"])
    assert report.loc["left_eye_center", "rmse_px"] == metrics.per_keypoint_errors(predicted, truth).loc[
        "left_eye_center", "rmse_px"]


def test_error_by_bins():
    covariate = np.array([5.0, 1.0, 3.0, np.nan, 2.0, 4.0, 6.0])
    errors = np.array([50.0, 10.0, 30.0, 99.0, 20.0, 40.0, np.nan])
    table = metrics.error_by_bins(covariate, errors, n_bins=2)  # usable: 1..5 -> bins {1, 2, 3} and {4, 5}
    assert table["n"].tolist() == [3, 2]
    assert table["low"].tolist() == [1, 4] and table["high"].tolist() == [3, 5]
    np.testing.assert_allclose(table["mean_error"], [20, 45])
    np.testing.assert_allclose(table["se"], [10 / np.sqrt(3), np.sqrt(50) / np.sqrt(2)])
    assert metrics.error_by_bins(np.array([np.nan]), np.array([1.0])).empty


def test_eye_line_angle():
    keypoints = np.zeros((2, 15, 2))
    keypoints[0, LE], keypoints[0, RE] = (60, 40), (30, 40)
    keypoints[1, LE], keypoints[1, RE] = (60, 70), (30, 40)
    np.testing.assert_allclose(metrics.eye_line_angle_deg(keypoints), [0, 45])


def test_table_records_are_json_ready():
    import json

    predicted, truth = tiny_case()
    table = tables.evaluation_table({"tiny": predicted}, truth, per_keypoint=True)
    records = tables.table_records(table)
    assert records[0]["model"] == "tiny" and records[0]["rmse_mouth_right_corner_px"] is None
    json.dumps(records, allow_nan=False)


def test_noise_floor_pck_curve():
    _, truth = tiny_case()
    np.testing.assert_allclose(tables.noise_floor_pck_curve(truth, 1.0, [0, 1, 2]), [0, 1 - np.exp(-0.5), 1 - np.exp(-2)])
    np.testing.assert_allclose(tables.noise_floor_pck_curve(truth, 1.0, [0.1], normalised=True), [1 - np.exp(-4.5)])
    np.testing.assert_allclose(tables.noise_floor_pck_curve(truth, 0.0, [0, 1]), [1, 1])
    assert np.isnan(tables.noise_floor_pck_curve(np.full((1, 15, 2), np.nan), 1.0, [1, 2])).all()


def test_held_out_table_scores_against_labels_and_the_noise_free_truth(rng):
    truth = rng.uniform(20, 76, (50, 15, 2))
    labels = truth + rng.normal(0, 1.0, truth.shape)
    predictions = {"perfect": truth.copy(), "off_by_2": truth + 2.0}
    table = tables.held_out_table(predictions, labels, noise_free=truth, noise_floor=1.0)
    assert list(table.index) == ["perfect", "off_by_2", tables.NOISE_FLOOR_ROW]
    assert table.loc["perfect", "rmse_vs_noise_free_px"] == 0.0
    assert table.loc["off_by_2", "rmse_vs_noise_free_px"] == pytest.approx(2.0)
    assert table.loc["perfect", "rmse_px"] == pytest.approx(metrics.rmse_px(truth, labels))
    assert not any(column.startswith("rmse_left_eye") for column in table.columns)
    plain = tables.held_out_table(predictions, labels)
    assert "rmse_vs_noise_free_px" not in plain.columns and tables.NOISE_FLOOR_ROW not in plain.index
