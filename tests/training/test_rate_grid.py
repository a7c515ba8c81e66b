"""Tests for fkp_helpers.training.rate_grid: the trial rates, the trials, the rule that picks, the adopted run."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fkp_helpers.profiles import get_profile
from fkp_helpers.training.batches import ArrayBatches
from fkp_helpers.training.losses import MONITOR
from fkp_helpers.training.models import copy_model
from fkp_helpers.training.rate_grid import (
    adopt_trial,
    describe_grid_edges,
    describe_rate_trials,
    grid_position,
    next_rate,
    pick_grid_rate,
    plot_rate_trials,
    rate_grid,
    rate_trials,
)
from fkp_helpers.training.study import near_floor


def test_the_grid_is_each_profiles_multiples_of_the_reading_lowest_first():
    assert rate_grid(0.01, get_profile("quick").rate_factors) == pytest.approx([0.01 / 10 ** 0.5, 0.01])
    assert rate_grid(0.01, get_profile("study").rate_factors) == pytest.approx(
        [0.001, 0.01 / 10 ** 0.5, 0.01, 0.01 * 10 ** 0.5])
    with pytest.raises(ValueError, match="positive rate"):
        rate_grid(0.0, (1.0,))


def trials_of(scores):
    rates = [1e-3, 3e-3, 1e-2][:len(scores)]  # more than the grid's two: the rule reads any number of trials
    return pd.DataFrame({"optimizer": "adam", "learning_rate": rates, "val_rmse_px": scores,
                         "diverged": [not np.isfinite(s) for s in scores]})


def test_the_rule_picks_the_lowest_final_validation_rmse_and_never_a_diverged_trial():
    assert pick_grid_rate(trials_of([3.4, 3.2, np.inf])) == 3e-3
    assert pick_grid_rate(trials_of([np.inf, np.nan, 3.7])) == 1e-2
    assert pick_grid_rate(trials_of([np.inf, np.nan])) == pytest.approx(1e-3 / 10 ** 0.5)
    assert describe_rate_trials("SGD", trials_of([np.inf, np.nan]), 3.688) == (
        "SGD: 0.001: diverged; 0.003: diverged; picked 0.00032 (every trial diverged: half a decade below the lowest) "
        "(the mean shape scores 3.688 px on the same faces).")
    assert describe_rate_trials("Adam", trials_of([3.4, 3.2, np.inf]), 3.688) == (
        "Adam: 0.001: 3.400 px; 0.003: 3.200 px; 0.01: diverged; picked 0.003 (the mean shape scores 3.688 px on "
        "the same faces).")


def test_a_pick_at_an_edge_of_its_grid_is_called_unbracketed():
    assert [grid_position(trials_of(s)) for s in ([3.4, 3.2, np.inf], [3.1, 3.2, 3.3], [3.3, 3.2, 3.1],
                                                   [np.inf, np.inf])] == ["inside", "lowest", "highest", "below"]
    assert describe_grid_edges({"SGD": trials_of([3.3, 3.2]), "Adam": trials_of([3.1, 3.2])}) == (
        "Not bracketed by the trials: SGD at its highest trial rate (0.003), Adam at its lowest trial rate (0.001); "
        "a better rate may lie beyond, untried, so the comparison is of the picked rates, not of each optimizer at "
        "its best rate.")
    assert describe_grid_edges({"SGD": trials_of([3.4, 3.2, 3.3])}).startswith("Every pick lies between two")


def test_the_next_trial_brackets_a_pick_at_an_edge_and_none_follows_an_interior_one():
    assert next_rate(trials_of([3.1, 3.2, 3.3])) == pytest.approx(1e-3 / 10 ** 0.5)
    assert next_rate(trials_of([3.3, 3.2, 3.1])) == pytest.approx(1e-2 * 10 ** 0.5)
    assert next_rate(trials_of([np.inf, np.inf])) == pytest.approx(1e-3 / 10 ** 0.5)
    assert next_rate(trials_of([3.4, 3.2, np.inf])) is None


def test_the_trial_figure_marks_the_pick_the_diverged_trials_and_the_mean_shape():
    figure = plot_rate_trials({"SGD": trials_of([3.3, 3.2, 3.25]), "Adam": trials_of([3.4, 3.2, np.inf]),
                               "none": trials_of([np.inf, np.inf])}, 3.688)
    ax = figure.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert "Adam: diverged" in labels and "SGD: picked 0.003" in labels and "mean shape (3.688 px)" in labels
    assert "none: diverged" in labels and not any(label.startswith("none: picked") for label in labels)
    assert ax.get_xscale() == "log" and ax.get_ylabel()
    assert [t.get_text() for t in ax.texts] == ["0.001", "0.003", "0.01", "0.001", "0.003", "0.01", "0.001", "0.003"], \
        "each trial labelled with its rate, the diverged ones too"
    assert ax.xaxis.get_major_formatter()(0.002, 0) == "0.002" and ax.xaxis.get_minor_formatter()(0.003, 0) == "", \
        "plain tick labels at 1, 2 and 5 of a decade, no crowded minor labels"


def test_the_trial_figure_joins_points_only_where_three_rates_show_a_curve():
    figure = plot_rate_trials({"SGD": trials_of([3.3, 3.2]), "Adam": trials_of([3.4, 3.2, 3.3])}, 3.688)
    sgd, adam = [line for line in figure.axes[0].lines if line.get_label() in ("SGD", "Adam")]
    assert sgd.get_linestyle() == "None" and sgd.get_marker() == "o", "two rates: two points, no line"
    assert adam.get_linestyle() == ":" and adam.get_linewidth() <= 1, "three rates: a thin dotted line"
    floor = [line for line in figure.axes[0].lines if line.get_label() == "mean shape (3.688 px)"]
    assert list(floor[0].get_ydata()) == [3.688, 3.688] and floor[0].get_linestyle() == "--"


def test_runs_that_do_not_beat_the_mean_shape_by_the_margin_are_named():
    assert near_floor({"a": 3.0, "b": 3.66, "c": 3.70}, floor=3.688) == ["b", "c"]
    assert near_floor({"a": 3.0}, floor=3.688) == []


def test_trials_start_from_the_same_weights_score_a_diverged_rate_as_infinite_and_the_pick_is_adopted(
        data, initial_model, tmp_path):
    train, val = data
    batches = ArrayBatches(*train, batch_size=8, shuffle=True, seed=0)
    build = lambda: copy_model(initial_model)  # noqa: E731
    trials = rate_trials(build, batches, val, "sgd", [1e-3, 1e30], epochs=2, seed=0, run_dir=tmp_path, name="vgg")
    table = trials.table
    assert list(table["learning_rate"]) == [1e-3, 1e30] and list(table["diverged"]) == [False, True]
    assert table["val_rmse_px"][0] == trials.runs[1e-3].best_val_rmse_px and table["val_rmse_px"][1] == np.inf
    assert list(trials.runs) == [1e-3], "no run for the diverged rate, and no restart at half of it"
    again = rate_trials(build, batches, val, "sgd", [1e-3], epochs=2, seed=0, run_dir=tmp_path / "again", name="vgg")
    assert again.table["val_rmse_px"][0] == table["val_rmse_px"][0], "the same weights, batches and seed"

    adopted = adopt_trial(trials, pick_grid_rate(table), "vgg_sgd_s0")
    assert adopted.name == "vgg_sgd_s0" and adopted.best_val_rmse_px == table["val_rmse_px"][0]
    for trial_file, study_file in (("models/vgg_trial0.keras", "models/vgg_sgd_s0.keras"),
                                   ("histories/vgg_trial0.csv", "histories/vgg_sgd_s0.csv"),
                                   ("histories/vgg_trial0.late.csv", "histories/vgg_sgd_s0.late.csv"),
                                   ("histories/vgg_trial0.done.json", "histories/vgg_sgd_s0.done.json")):
        assert (tmp_path / study_file).read_bytes() == (tmp_path / trial_file).read_bytes(), study_file
    assert adopted.model_path == tmp_path / "models" / "vgg_sgd_s0.keras"
    assert pd.read_csv(adopted.history_path)[MONITOR].min() == pytest.approx(adopted.best_val_rmse_px)
    assert adopt_trial(trials, 1e30, "vgg_sgd_s0") is None, "no finished trial at that rate: the study trains it"


def test_trials_extend_beyond_the_edge_where_the_best_sits_until_it_is_bracketed_or_extensions_run_out(
        data, initial_model, tmp_path):
    train, val = data
    batches = ArrayBatches(*train, batch_size=8, shuffle=True, seed=0)
    build = lambda: copy_model(initial_model)  # noqa: E731
    trials = rate_trials(build, batches, val, "sgd", [1e29, 1e30], epochs=1, seed=0, run_dir=tmp_path, name="vgg",
                         extensions=2)
    rates = list(trials.table["learning_rate"])
    assert rates == pytest.approx([1e29, 1e30, 1e29 / 10 ** 0.5, 1e29 / 10])
    assert trials.table["diverged"].tolist() == [True, True, True, True], "every trial diverged: extended below, twice"
    once = rate_trials(build, batches, val, "sgd", [1e-3, 1e30], epochs=1, seed=0, run_dir=tmp_path / "b", name="vgg",
                       extensions=1)
    assert list(once.table["learning_rate"]) == pytest.approx([1e-3, 1e30, 1e-3 / 10 ** 0.5]), "one extension below"
    assert list(once.runs) == pytest.approx([1e-3, 1e-3 / 10 ** 0.5])
