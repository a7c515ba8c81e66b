"""Tests for fkp_helpers.training.range_test and study: range tests, the peak-rate rule, convergence, seed spread."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fkp_helpers.training.batches import ArrayBatches
from fkp_helpers.training.losses import MONITOR
from fkp_helpers.training.loop import TrainingResult
from fkp_helpers.training.models import build_vgg
from fkp_helpers.training.range_test import (
    NEAR_MINIMUM,
    PEAK_DIVISOR,
    describe_range_test,
    lr_range_test,
    range_test_rate,
    plot_range_tests,
)
from fkp_helpers.training.study import (
    convergence,
    convergence_table,
    initial_model,
    late_steps,
    plot_study_curves,
    spread_by_group,
    validation_curve,
)


def test_a_range_test_grows_the_rate_exponentially_and_stops_when_the_loss_diverges(data, initial_model):
    train, _ = data
    batches = ArrayBatches(*train, batch_size=8, shuffle=True, seed=0)
    before = [w.copy() for w in initial_model.get_weights()]
    test = lr_range_test(initial_model, batches, "sgd", 1e-4, 1e4, steps=30, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, initial_model.get_weights())), "the model is untouched"
    rates = test["learning_rate"].to_numpy()
    np.testing.assert_allclose(rates[:3], 1e-4 * (1e8 ** (np.arange(3) / 29)), rtol=1e-4)
    assert len(test) < 30, "a rate of 1e4 with SGD diverges before the last step"
    again = lr_range_test(initial_model, batches, "sgd", 1e-4, 1e4, steps=30, seed=0)
    pd.testing.assert_frame_equal(test, again)


def test_the_reading_is_a_tenth_of_the_rate_of_the_lowest_smoothed_loss_when_nothing_else_is_near_it():
    test = pd.DataFrame({"learning_rate": [1e-3, 1e-2, 1e-1, 1.0], "smoothed_loss": [1.0, 0.5, 0.2, np.inf]})
    assert range_test_rate(test) == pytest.approx(1e-1 / PEAK_DIVISOR)
    with pytest.raises(ValueError, match="no finite loss"):
        range_test_rate(test.iloc[3:])
    assert describe_range_test("SGD", test.iloc[:3], steps=4) == (
        "SGD: 3 of 4 steps; lowest smoothed loss 0.200 at rate 0.1; first within 2% of it at rate 0.1, so it reads "
        "0.01 (the loss diverged after it).")


def test_a_flat_stretch_past_the_minimum_does_not_move_the_reading():
    """The AVX2 case: a loss that stays flat for a decade past its first low point and ties it there."""
    rates = np.logspace(-3, 0, 7)
    flat = 0.2 * (1 + NEAR_MINIMUM / 2)
    test = pd.DataFrame({"learning_rate": rates, "smoothed_loss": [1.0, 0.6, 0.3, flat, flat, flat, 0.2]})
    assert range_test_rate(test) == pytest.approx(rates[3] / PEAK_DIVISOR)
    assert describe_range_test("SGD", test, steps=7).endswith(
        "did not diverge within the range, and was lowest at its top end: a wider range might read a higher rate.")
    figure = plot_range_tests({"SGD": test.iloc[:3], "Adam": test.iloc[:3]})
    assert figure.axes[0].get_xscale() == "log" and figure.axes[0].get_xlabel()
    assert figure.axes[0].yaxis.get_minor_formatter()(0.6, 0) == "0.6", "plain tick labels, not 6 x 10^-1"
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert "SGD: near-minimum point 0.01 (first within 2% of the lowest)" in labels, "the marker is in the legend"
    assert "SGD: reading 0.001 (that rate / 10)" in labels


def test_the_same_seed_builds_the_same_initial_weights_and_another_seed_does_not():
    build = lambda: build_vgg(width_multiplier=0.125, dense_units=(16,))  # noqa: E731
    a, b, c = initial_model(build, 1), initial_model(build, 1), initial_model(build, 2)
    assert all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


def history(values):
    return pd.DataFrame({"epoch": np.arange(1, len(values) + 1), MONITOR: values, "masked_rmse_px": values,
                         "learning_rate": np.linspace(1e-2, 1e-4, len(values)), "seconds": 2.0})


def result_of(name, values, late=None):
    """A run with epoch-end validation ``values`` and, optionally, ``late`` = {fractional epoch: RMSE} inside epochs."""
    late_validation = None if late is None else pd.DataFrame({"epoch": list(late), MONITOR: list(late.values())})
    return TrainingResult(name=name, optimizer="adam", learning_rate=1e-3, history=history(values), best_epoch=1,
                          best_val_rmse_px=min(values), seconds_per_epoch=2.0, images_per_second=1.0,
                          train_images=64, epochs_run=len(values), model_path=None, history_path=None,
                          late_validation=late_validation)


def test_late_steps_are_evenly_spaced_inside_the_last_fifth_and_never_the_last_step():
    assert late_steps(100) == [80, 85, 90, 95]
    assert late_steps(103) == [83, 88, 93, 98], "never before 80 % of the steps (82.4)"
    assert late_steps(10) == [8, 9]


def test_convergence_is_a_flat_validation_curve_over_the_last_fifth_of_the_steps():
    flat = convergence(result_of("a", [5.0, 3.0, 2.5, 2.2, 2.1, 2.09, 2.08, 2.08, 2.07, 2.07]))
    assert flat["flat"] and flat["points_in_window"] == 3 and flat["last_px"] == 2.07
    assert flat["relative_change"] == pytest.approx(0.01 / 2.07)
    annealed = result_of("b", [3.7, 3.36, 3.21], late={2.4: 3.26, 2.55: 3.23, 2.7: 3.22, 2.85: 3.215})
    assert list(validation_curve(annealed)["epoch"]) == [1, 2, 2.4, 2.55, 2.7, 2.85, 3]
    check = convergence(annealed)
    assert check["flat"] and check["points_in_window"] == 5 and check["first_px"] == 3.26
    assert check["relative_change"] == pytest.approx(0.05 / 3.21)
    falling = convergence(result_of("c", [5.0, 4.0, 3.0], late={2.4: 3.5, 2.7: 3.2}))
    assert not falling["flat"] and falling["relative_change"] == pytest.approx(0.5 / 3.0)
    unmeasured = convergence(result_of("d", [5.0, 4.0, 3.0]))
    assert not unmeasured["flat"] and unmeasured["points_in_window"] == 1 and np.isnan(unmeasured["relative_change"])


def test_seed_spread_convergence_table_and_curves_cover_every_run():
    results = {"a0": result_of("a0", [4.0, 3.0]), "a1": result_of("a1", [4.0, 3.2]), "b0": result_of("b0", [5.0, 4.0])}
    groups = {"a0": "Adam", "a1": "Adam", "b0": "SGD"}
    spread = spread_by_group({n: r.best_val_rmse_px for n, r in results.items()}, groups)
    assert spread.loc["Adam", "mean"] == pytest.approx(3.1) and spread.loc["Adam", "runs"] == 2
    assert spread.loc["Adam", "sd"] == pytest.approx(np.std([3.0, 3.2], ddof=1)) and np.isnan(spread.loc["SGD", "sd"])
    assert list(convergence_table(results).index) == ["a0", "a1", "b0"]
    figure = plot_study_curves(results, groups, batch_size=32)
    assert len(figure.axes[0].lines) == 3 and len(figure.axes[0].patches) == 1 and all(ax.get_xlabel() and ax.get_ylabel() for ax in figure.axes)


def test_study_curves_show_the_floor_training_on_its_own_axis_and_tell_the_seeds_apart():
    results = {name: result_of(name, values) for name, values in
               {"vgg_sgd_s0": [3.7, 3.3], "vgg_sgd_s1": [3.7, 3.25], "vgg_adam_s0": [3.7, 3.5]}.items()}
    for result in results.values():
        result.history["masked_rmse_px"] = result.history[MONITOR] + 2.0  # training sits well above validation
    groups = {"vgg_sgd_s0": "VGG + SGD", "vgg_sgd_s1": "VGG + SGD", "vgg_adam_s0": "VGG + Adam"}
    figure = plot_study_curves(results, groups, batch_size=32, floor_px=3.688)
    by_step, by_time, training, _ = figure.axes
    for ax in (by_step, by_time):
        floor = [line for line in ax.lines if list(line.get_ydata()) == [3.688, 3.688]]
        assert len(floor) == 1 and floor[0].get_linestyle() == "--"
        assert ax.get_ylim()[1] < 4.0, "validation differences get the whole axis, no training curve squeezes them"
    assert training.get_ylabel() == "training RMSE (px)" and training.get_ylim()[0] > 5.0
    sgd0, sgd1, adam0 = by_step.lines[:3]
    assert sgd0.get_color() == sgd1.get_color() != adam0.get_color(), "one colour an optimizer"
    assert (sgd0.get_linestyle(), sgd0.get_marker()) != (sgd1.get_linestyle(), sgd1.get_marker()), "seeds differ"
    assert (sgd0.get_linestyle(), sgd0.get_marker()) == (adam0.get_linestyle(), adam0.get_marker())
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == ["VGG + SGD", "VGG + Adam", "seed 0", "seed 1", "mean shape, validation (3.688 px)",
                      "last fifth of a run's steps"]
    without_floor = plot_study_curves(results, groups, 32).legends[0].get_texts()
    assert not any("mean shape" in text.get_text() for text in without_floor)
