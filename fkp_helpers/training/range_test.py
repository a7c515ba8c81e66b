"""The learning-rate range test (Smith 2017): one short run per optimizer while the rate grows exponentially.

Each optimizer gets the same effort: the same initial weights, the same batches, the same number of steps over the
same number of decades of learning rate. The rule that turns a test into a peak rate is fixed before any run
(``pick_peak_rate``): a tenth of the rate at which the smoothed training loss was lowest.
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
"""``pick_peak_rate``: the peak rate is the rate of the lowest smoothed loss divided by this."""


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


def pick_peak_rate(test: pd.DataFrame) -> float:
    """The rule fixed before the runs: the rate at the lowest smoothed loss, divided by ``PEAK_DIVISOR``."""
    finite = test[np.isfinite(test["smoothed_loss"])]
    if finite.empty:
        raise ValueError("the range test has no finite loss to pick a rate from")
    return float(finite.loc[finite["smoothed_loss"].idxmin(), "learning_rate"] / PEAK_DIVISOR)


def plot_range_tests(tests: dict[str, pd.DataFrame]) -> matplotlib.figure.Figure:
    """Smoothed training loss against learning rate (both log scale), one line per optimizer, with the picked
    peak rate (dotted) and the rate of the lowest loss (marker) of each. The loss axis stops at twice the highest
    starting loss, so a diverging end does not flatten the rest."""
    fig, ax = plt.subplots(figsize=(7, 4))
    lowest = min(test["smoothed_loss"].min() for test in tests.values())
    start = max(test["smoothed_loss"].iloc[0] for test in tests.values())
    for name, test in tests.items():
        line, = ax.plot(test["learning_rate"], test["smoothed_loss"], label=name)
        best = test.loc[test["smoothed_loss"].idxmin()]
        ax.plot(best["learning_rate"], best["smoothed_loss"], "o", color=line.get_color())
        peak = pick_peak_rate(test)
        ax.axvline(peak, color=line.get_color(), linestyle=":", label=f"{name}: picked peak {peak:.2g}")
    ax.set_ylim(0.8 * lowest, 2 * start)
    plain_log_ticks(ax.yaxis)
    ax.set(xscale="log", yscale="log", xlabel="learning rate (log scale)",
           ylabel="smoothed training loss (standardised units, log)", title="Learning-rate range tests")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
