"""Two recipes compared seed by seed: the paired differences, their intervals over seeds and over people."""
from __future__ import annotations

import numpy as np
import pytest

from fkp_helpers.evaluation import metrics
from fkp_helpers.evaluation.seed_pairs import MEAN_ROW, describe_seed_pairs, seed_paired_differences


@pytest.fixture
def faces(rng):
    truth = rng.uniform(20, 76, size=(40, 15, 2))
    truth[::3, 4:] = np.nan  # Kaggle's partly labelled faces
    people = np.repeat(np.arange(10), 4)
    return truth, people


def test_each_seed_is_a_paired_difference_and_the_mean_row_has_both_intervals(faces, rng):
    truth, people = faces
    first = {s: np.nan_to_num(truth, nan=48.0) + rng.normal(0, 2.0, truth.shape) for s in (0, 1, 2)}
    second = {s: np.nan_to_num(truth, nan=48.0) + rng.normal(0, 1.5, truth.shape) for s in (0, 1, 2, 3)}  # seed 3 has no twin: left out
    table = seed_paired_differences(first, second, truth, people)
    assert list(table.index) == ["seed 0", "seed 1", "seed 2", MEAN_ROW]
    for s in (0, 1, 2):
        difference, se = metrics.rmse_difference_and_se(metrics.squared_coordinate_errors(first[s], truth),
                                                        metrics.squared_coordinate_errors(second[s], truth), people)
        assert table.loc[f"seed {s}", "difference_px"] == pytest.approx(difference)
        assert table.loc[f"seed {s}", "ci95_people_px"] == pytest.approx(1.96 * se, rel=1e-3)
    d = table["difference_px"].iloc[:3].to_numpy()
    assert table.loc[MEAN_ROW, "difference_px"] == pytest.approx(d.mean())
    assert table.loc[MEAN_ROW, "ci95_seeds_px"] == pytest.approx(4.302653 * d.std(ddof=1) / np.sqrt(3), rel=1e-5)
    assert 0 < table.loc[MEAN_ROW, "ci95_people_px"] < table["ci95_people_px"].iloc[:3].max(), \
        "averaging three seeds' paired differences narrows the interval over people"


def test_the_verdict_needs_both_intervals_to_exclude_zero(faces, rng):
    truth, people = faces
    noise = {s: rng.normal(0, 2.0, truth.shape) for s in (0, 1, 2)}
    labels = np.nan_to_num(truth, nan=48.0)
    worse = {s: labels + noise[s] for s in noise}
    better = {s: labels + 0.5 * noise[s] for s in noise}
    sentence = describe_seed_pairs(seed_paired_differences(worse, better, truth, people), "SGD", "Adam", "test people")
    assert sentence.startswith("Adam minus SGD, mean over 3 seeds: -")
    assert sentence.endswith("both exclude 0: Adam is lower on these test people.")
    same = seed_paired_differences(worse, worse, truth, people)
    assert describe_seed_pairs(same, "SGD", "Adam", "faces").endswith("at least one includes 0: no difference shown.")
    single = seed_paired_differences({0: worse[0]}, {0: better[0]}, truth, people)
    assert np.isnan(single.loc[MEAN_ROW, "ci95_seeds_px"])
    assert "over seeds: none" in describe_seed_pairs(single, "SGD", "Adam", "faces")


def test_runs_without_a_common_seed_are_refused(faces):
    truth, _ = faces
    with pytest.raises(ValueError, match=r"no seed in common: first has \[0\], second has \[1\]"):
        seed_paired_differences({0: np.zeros(truth.shape)}, {1: np.zeros(truth.shape)}, truth)
