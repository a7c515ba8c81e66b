import numpy as np
import pandas as pd
import pytest

from fkp_helpers.data.keypoints import ALWAYS_LABELLED_INDEX, OTHER_INDEX
from fkp_helpers.eda.missing_labels import (
    apply_strategy,
    imputation_victims,
    missing_counts,
    missing_patterns,
    regime_counts,
    strategy_spread,
    strategy_summary,
    unpaired_coordinates,
)


@pytest.fixture
def keypoints():
    """5 rows: 2 complete, 2 with only the 4 always-labelled keypoints, 1 missing just the nose tip."""
    k = np.tile(np.linspace(10, 80, 30).reshape(1, 15, 2), (5, 1, 1)) + np.arange(5)[:, None, None] * 0.1
    k[2:4, OTHER_INDEX] = np.nan
    k[4, 10] = np.nan
    return k


def test_missing_counts(keypoints):
    counts = missing_counts(keypoints).set_index("keypoint")
    assert counts.loc["left_eye_inner_corner", "missing"] == 2
    assert counts.loc["nose_tip", "missing"] == 1 and counts.loc["nose_tip", "missing_pct"] == pytest.approx(20.0)
    assert counts.loc["left_eye_center", "missing"] == 0


def test_patterns_and_regimes(keypoints):
    patterns = missing_patterns(keypoints)
    assert patterns["rows"].tolist() == [2, 2, 1]
    assert set(patterns["regime"]) == {"all 15", "4 always-labelled only", "other"}
    four = patterns[patterns.regime == "4 always-labelled only"].iloc[0]
    assert four["n_labelled"] == 4 and four.iloc[4:].astype(bool).sum() == 4
    assert regime_counts(keypoints).tolist() == [2, 2, 1]


def test_unpaired_coordinates():
    coords = np.ones((2, 30))
    assert unpaired_coordinates(coords) == 0
    coords[1, 5] = np.nan
    assert unpaired_coordinates(coords) == 1


def test_strategies_keep_what_they_say(keypoints):
    rows, targets = apply_strategy(keypoints, "dropna")
    assert rows.tolist() == [0, 1] and not np.isnan(targets).any()
    rows, targets = apply_strategy(keypoints, "mean_imputation")
    assert len(rows) == 5 and targets[2, OTHER_INDEX[0], 0] == pytest.approx(np.nanmean(keypoints[:, OTHER_INDEX[0], 0]))
    rows, targets = apply_strategy(keypoints, "forward_fill")
    assert np.array_equal(targets[2, OTHER_INDEX], keypoints[1, OTHER_INDEX]) and len(rows) == 5
    rows, targets = apply_strategy(keypoints, "masked_loss")
    assert np.array_equal(np.isnan(targets), np.isnan(keypoints))
    with pytest.raises(ValueError, match="unknown strategy 'median'"):
        apply_strategy(keypoints, "median")


def test_forward_fill_drops_rows_before_the_first_label(keypoints):
    rows, _ = apply_strategy(keypoints[::-1][1:], "forward_fill")  # starts with a 4-keypoint row
    assert 0 not in rows


def test_strategy_summary_counts(keypoints):
    summary = strategy_summary(keypoints).set_index("strategy")
    real = 2 * (2 * 15 + 2 * 4 + 14)
    assert summary.loc["masked_loss", "real_coordinates_used"] == real
    assert summary.loc["dropna", "real_coordinates_used"] == 60
    assert summary.loc["mean_imputation", "invented_coordinates"] == 2 * (2 * 11 + 1)
    assert summary.loc["masked_loss", "invented_coordinates"] == 0
    assert summary.loc["dropna", "rows_kept_pct"] == pytest.approx(40.0)


def test_mean_imputation_shrinks_the_spread(keypoints):
    spread = strategy_spread(keypoints)
    assert (spread["mean_imputation"] <= spread["real labels"] + 1e-9).all()
    assert isinstance(spread, pd.DataFrame) and spread.shape == (30, 4)


def test_imputation_victims_are_four_keypoint_rows_far_from_the_mean(keypoints):
    keypoints[3, ALWAYS_LABELLED_INDEX] += 5
    assert imputation_victims(keypoints, 2).tolist() == [3, 2]
