"""The learning-rate range test (Smith 2017): one short run per optimizer while the rate grows exponentially.

Each optimizer gets the same effort: the same initial weights, the same batches, the same number of steps over the
same number of decades of learning rate. The rule that reads a test is fixed before the study's runs
(``range_test_rate``): a tenth of the lowest rate at which the smoothed training loss came within 2 % of its minimum.
The reading and half a decade below it are each optimizer's trial rates (``rate_grid.py``), whose trials pick the
peak rate.

The reading rule was revised once. It used to take a tenth of the rate at the minimum itself. With oneDNN's AVX2
kernels instead of AVX-512 ones, the SGD test's loss stayed flat for a decade past the minimum of the AVX-512 run, a
three-decimal tie moved the minimum there, and the rule picked a ten times higher rate, which diverged. The first
rate near the minimum is the same on both kinds of kernel (README, "The protocol was revised twice").
"""
from __future__ import annotations

import keras
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fkp_helpers.plotting import plain_log_ticks
from fkp_helpers.training.loop import compile_model
from fkp_helpers.training.models import copy_model
from fkp_helpers.training.optimizers import make_optimizer
from fkp_helpers.training.reproducibility import set_reproducible

SMOOTHING = 0.9
"""Weight of the past in the exponentially smoothed loss (bias-corrected, as in Smith's and fastai's tests)."""
PEAK_DIVISOR = 10.0
"""``range_test_rate``: the reading is the rate near the test's minimum divided by this."""
NEAR_MINIMUM = 0.02
"""``range_test_rate`` reads the lowest rate whose smoothed loss is within this share of the test's minimum."""


def lr_range_test(
    model: keras.Model,
    batches: keras.utils.PyDataset,
    optimizer_name: str,
    min_rate: float,
    max_rate: float,
    steps: int,
    seed: int = 0,
    stop_factor: float = 4.0,
) -> pd.DataFrame:
    """Train a copy of ``model`` for up to ``steps`` batches while the rate grows from ``min_rate`` to ``max_rate``.

    One row per step: ``step``, ``learning_rate`` (the rate that step applied), ``loss`` (the batch's training loss
    before the update, in the model's regressed units) and ``smoothed_loss``. Stops early once the smoothed loss is
    above ``stop_factor`` times its minimum, or not finite (the rate diverged). ``model`` itself is not changed.
    """
    if not 0 < min_rate < max_rate or steps < 2:
        raise ValueError(f"need 0 < min_rate < max_rate and steps >= 2; got {min_rate}, {max_rate}, {steps}")
    set_reproducible(seed)
    schedule = keras.optimizers.schedules.ExponentialDecay(min_rate, decay_steps=steps - 1,
                                                           decay_rate=max_rate / min_rate)
    trial = compile_model(copy_model(model), make_optimizer(optimizer_name, schedule))
    rows, average, lowest = [], 0.0, np.inf
    for step in range(steps):
        epoch, index = divmod(step, len(batches))
        if index == 0 and hasattr(batches, "set_epoch"):
            batches.set_epoch(epoch)
        x, y = batches[index]
        loss = float(trial.train_on_batch(x, y, return_dict=True)["loss"])
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        smoothed = average / (1 - SMOOTHING ** (step + 1))
        rows.append({"step": step + 1, "learning_rate": float(schedule(step)), "loss": loss, "smoothed_loss": smoothed})
        lowest = min(lowest, smoothed)
        if not np.isfinite(smoothed) or smoothed > stop_factor * lowest:
            break
    return pd.DataFrame(rows)


def near_minimum_point(test: pd.DataFrame) -> pd.Series:
    """The test's row at the lowest rate whose smoothed loss was within ``NEAR_MINIMUM`` of its minimum."""
    finite = test[np.isfinite(test["smoothed_loss"])]
    if finite.empty:
        raise ValueError("the range test has no finite loss to pick a rate from")
    near = finite[finite["smoothed_loss"] <= (1 + NEAR_MINIMUM) * finite["smoothed_loss"].min()]
    return near.loc[near["learning_rate"].idxmin()]


def range_test_rate(test: pd.DataFrame) -> float:
    """The test's reading, by the rule fixed before the runs: the rate of ``near_minimum_point`` divided by
    ``PEAK_DIVISOR``."""
    return float(near_minimum_point(test)["learning_rate"]) / PEAK_DIVISOR


def describe_range_test(name: str, test: pd.DataFrame, steps: int) -> str:
    """One sentence on what the rule read from ``test`` (planned for ``steps`` steps) and why it ended where it did."""
    lowest, read = test["smoothed_loss"].idxmin(), near_minimum_point(test)["learning_rate"]
    ending = (" (the loss diverged after it)." if len(test) < steps else "; the loss did not diverge within the range"
              + (", and was lowest at its top end: a wider range might read a higher rate."
                 if lowest == len(test) - 1 else "."))
    return (f"{name}: {len(test)} of {steps} steps; lowest smoothed loss {test['smoothed_loss'].min():.3f} at rate "
            f"{test['learning_rate'][lowest]:.2g}; first within {NEAR_MINIMUM:.0%} of it at rate {read:.2g}, so it "
            f"reads {range_test_rate(test):.2g}" + ending)


def plot_range_tests(tests: dict[str, pd.DataFrame]) -> matplotlib.figure.Figure:
    """Smoothed training loss against learning rate (both log scale), one line per optimizer, with its reading
    (dotted: the highest trial rate) and the point the rule read it from (marker: the first rate near the lowest
    loss). The loss axis stops at twice the highest starting loss, so a diverging end does not flatten the rest."""
    fig, ax = plt.subplots(figsize=(7, 5.5))
    lowest = min(test["smoothed_loss"].min() for test in tests.values())
    start = max(test["smoothed_loss"].iloc[0] for test in tests.values())
    for name, test in tests.items():
        line, = ax.plot(test["learning_rate"], test["smoothed_loss"], label=name)
        read = near_minimum_point(test)
        ax.plot(read["learning_rate"], read["smoothed_loss"], "o", color=line.get_color(),
                label=f"{name}: near-minimum point {read['learning_rate']:.2g} (first within {NEAR_MINIMUM:.0%} of "
                      "the lowest)")
        reading = range_test_rate(test)
        ax.axvline(reading, color=line.get_color(), linestyle=":",
                   label=f"{name}: reading {reading:.2g} (that rate / {PEAK_DIVISOR:g})")
    ax.set(xscale="log", yscale="log", xlabel="learning rate (log scale)",
           ylabel="smoothed training loss (standardised units, log)", title="Learning-rate range tests")
    ax.set_ylim(0.8 * lowest, 2 * start)
    plain_log_ticks(ax.yaxis)  # after set_yscale, which resets the formatters
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.16))  # below the plot, which keeps its width
    fig.tight_layout()
    return fig
