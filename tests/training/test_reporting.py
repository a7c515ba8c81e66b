"""Tests for fkp_helpers.training.reporting: the training-curve figure."""
from __future__ import annotations

import matplotlib
import pandas as pd

matplotlib.use("Agg")

from fkp_helpers.training.reporting import plot_training_curves  # noqa: E402


def test_plot_training_curves_draws_train_and_validation_per_run(metric_columns):
    history = pd.DataFrame({"epoch": [1, 2], **{c: [1.0, 0.5] for c in metric_columns[1:7]}})
    fig = plot_training_curves({"sgd": history, "adam": history})
    assert len(fig.axes) == 3 and all(len(ax.lines) == 4 for ax in fig.axes)
    assert fig.axes[2].get_yscale() == "log"
