"""The evaluation figures draw what they are given (one line or bar series per model)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from fkp_helpers.data.keypoints import KEYPOINT_NAMES
from fkp_helpers.evaluation import metrics
from fkp_helpers.evaluation import plots as evaluation_plots


@pytest.fixture
def predictions_and_truth():
    rng = np.random.default_rng(0)
    truth = rng.uniform(20, 76, size=(40, 15, 2))
    truth[:20, 2:] = np.nan  # half the rows have only the first two keypoints (both eyes)
    models = {"good": truth + rng.normal(0, 1, truth.shape), "bad": truth + rng.normal(0, 3, truth.shape)}
    models = {name: np.where(np.isnan(p), 48.0, p) for name, p in models.items()}
    return models, truth


def test_per_keypoint_error_bars(predictions_and_truth, assert_legends_clear_of_axes):
    models, truth = predictions_and_truth
    fig = evaluation_plots.per_keypoint_error_bars(models, truth, noise_floor=1.0, faces="the validation faces")
    assert fig.axes[0].get_title() == "Error per keypoint on the validation faces"
    assert_legends_clear_of_axes(fig)
    ax = fig.axes[0]
    rows = [c for c in ax.containers if isinstance(c, matplotlib.container.ErrorbarContainer)]
    assert len(rows) == len(models) and not any(isinstance(c, matplotlib.container.BarContainer) for c in ax.containers)
    dots = rows[1].lines[0]
    np.testing.assert_allclose(dots.get_xdata(), metrics.per_keypoint_rmse(models["bad"], truth))
    assert np.all(np.diff(dots.get_ydata()) > 0.9), "one row a keypoint"
    assert ax.get_ylim()[0] > ax.get_ylim()[1], "the first keypoint on top"
    plt.close(fig)


def test_pck_curves(predictions_and_truth, assert_legends_clear_of_axes):
    models, truth = predictions_and_truth
    fig = evaluation_plots.pck_curves(models, truth, noise_floor=1.0, faces="the validation faces")
    assert fig._suptitle.get_text() == "PCK curves on the validation faces"
    assert_legends_clear_of_axes(fig)
    left, right = fig.axes
    assert [line.get_label() for line in left.lines] == ["good", "bad", "perfect model, noisy labels"]
    x, y = left.lines[0].get_data()
    np.testing.assert_allclose(y, metrics.pck_curve(models["good"], truth, x))
    assert y[0] == 0 and np.all(np.diff(y) >= 0)
    plt.close(fig)


def test_error_against(predictions_and_truth, assert_legends_clear_of_axes):
    models, truth = predictions_and_truth
    errors = metrics.per_image_rmse(models["good"], truth)
    fig = evaluation_plots.error_against({"brightness": np.arange(40.0), "roll (deg)": np.linspace(-10, 10, 40)}, errors, 4)
    assert len(fig.axes) == 2 and fig.axes[0].get_xlabel() == "brightness"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["one face", "mean in 4 equal-count bins, 95 % interval"]
    assert_legends_clear_of_axes(fig)
    plt.close(fig)


def test_error_against_draws_the_bins_that_error_by_bins_reports(predictions_and_truth):
    """Notebook 04's sentences come from ``error_by_bins`` with its default bins: the figure must draw the same ones."""
    models, truth = predictions_and_truth
    errors = metrics.per_image_rmse(models["good"], truth)
    covariate = np.arange(40.0)
    fig = evaluation_plots.error_against({"brightness": covariate}, errors)
    drawn = fig.axes[0].lines[0].get_xydata()
    reported = metrics.error_by_bins(covariate, errors)
    np.testing.assert_allclose(drawn, reported[["centre", "mean_error"]].to_numpy())
    plt.close(fig)


@pytest.fixture
def seeded_models():
    """Eight models as notebook 04 names them: three without a seed, two families of two seeds and a longer run."""
    rng = np.random.default_rng(1)
    truth = rng.uniform(20, 76, size=(30, 15, 2))
    names = ["mean_shape", "nouri_net", "nouri_net_dropna", "vgg_sgd_s0", "vgg_sgd_s1", "vgg_adam_s0", "vgg_adam_s1",
             "vgg_sgd_long_s0"]
    return {name: truth + rng.normal(0, 1 + i / 4, truth.shape) for i, name in enumerate(names)}, truth


def test_model_styles_give_a_colour_a_family_and_a_line_and_marker_a_seed():
    styles = evaluation_plots.model_styles(["mean_shape", "vgg_sgd_s0", "vgg_sgd_s1", "vgg_adam_s0", "vgg_sgd_long_s0"])
    assert styles["vgg_sgd_s0"]["color"] == styles["vgg_sgd_s1"]["color"] != styles["vgg_adam_s0"]["color"]
    others = {styles[name]["color"] for name in ("mean_shape", "vgg_sgd_s0", "vgg_adam_s0")}
    assert styles["vgg_sgd_long_s0"]["color"] not in others
    assert styles["vgg_sgd_s0"]["linestyle"] != styles["vgg_sgd_s1"]["linestyle"]
    assert styles["vgg_sgd_s0"]["marker"] != styles["vgg_sgd_s1"]["marker"]
    assert styles["vgg_adam_s0"]["linestyle"] == styles["vgg_sgd_s0"]["linestyle"], "a seed draws alike in every family"


def test_pck_curves_of_seeds_are_told_apart(seeded_models):
    models, truth = seeded_models
    fig = evaluation_plots.pck_curves(models, truth)
    looks = [(line.get_color(), line.get_linestyle(), line.get_marker()) for line in fig.axes[0].lines]
    assert len(set(looks)) == len(models), "every line differs from every other in colour, line style or marker"
    colours = {line.get_label(): line.get_color() for line in fig.axes[0].lines}
    assert colours["vgg_sgd_s0"] == colours["vgg_sgd_s1"] and colours["vgg_adam_s0"] == colours["vgg_adam_s1"]
    assert len(set(colours.values())) == 6, "one colour a family"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(models)
    plt.close(fig)


def test_per_keypoint_error_bars_of_seeds_are_told_apart(seeded_models, assert_legends_clear_of_axes):
    models, truth = seeded_models
    fig = evaluation_plots.per_keypoint_error_bars(models, truth)
    assert_legends_clear_of_axes(fig)
    rows = [c for c in fig.axes[0].containers if isinstance(c, matplotlib.container.ErrorbarContainer)]
    looks = [(matplotlib.colors.to_hex(row.lines[0].get_color()), row.lines[0].get_marker(),
              str(row.lines[2][0].get_linestyle())) for row in rows]
    assert len(set(looks)) == len(models), "every model's dots and intervals differ from every other's"
    by_name = dict(zip(models, looks))
    seed_0, seed_1 = by_name["vgg_sgd_s0"], by_name["vgg_sgd_s1"]
    assert seed_0[0] == seed_1[0] and seed_0[1:] != seed_1[1:], "one colour, another marker and line"
    plt.close(fig)
