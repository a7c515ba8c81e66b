"""The rate grid: each optimizer's peak rate settled by short trial runs around what its range test read.

A range test reads a rate from where the training loss is lowest before it diverges, so its reading hangs on the
step at which one batch blows up: two tests that agreed within 0.5 % for 45 of 50 steps read Adam rates 3.2 times
apart, and at the higher one Adam learned nothing (README, "The landmarks' horizontal offset"). The grid settles the
rate by what the study measures: each optimizer trains ``len(GRID_FACTORS)`` short runs, at its range test's reading
and half a decade either side, from the same initial weights, on the same batches, under the study's schedule shape
over the trial's own steps; the rate whose trial ends with the lowest validation RMSE is the peak (``pick_grid_rate``;
if every trial diverges, half a decade below the lowest, and the study's own restarts halve it further).
Both optimizers get the same number of trials and steps: equal tuning effort.
"""
from __future__ import annotations

import os
from typing import Callable

import keras
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fkp_helpers.training.losses import MONITOR
from fkp_helpers.training.study import train_scheduled

GRID_FACTORS = (10 ** -0.5, 1.0, 10 ** 0.5)
"""The trial rates, as multiples of the range test's reading: half a decade below, at, and above it."""
BELOW_GRID = 10 ** -0.5
"""``pick_grid_rate`` where every trial diverged: half a decade below the lowest trial rate."""


def rate_grid(centre: float, factors: tuple[float, ...] = GRID_FACTORS) -> list[float]:
    """The trial rates around ``centre``, lowest first."""
    if centre <= 0:
        raise ValueError(f"the grid's centre must be a positive rate, got {centre}")
    return sorted(centre * factor for factor in factors)


def rate_trials(
    build_initial: Callable[[], keras.Model],
    batches: keras.utils.PyDataset,
    val_data: tuple[np.ndarray, np.ndarray],
    optimizer_name: str,
    rates: list[float],
    epochs: int,
    seed: int,
    run_dir: str | os.PathLike,
    progress_every: int = 1,
) -> pd.DataFrame:
    """Train one trial per rate (``train_scheduled`` for ``epochs`` epochs from ``build_initial()``, no restart
    when it diverges, no saved model) and return one row per trial: ``learning_rate``, ``val_rmse_px`` (at the
    trial's end; infinite where the loss turned NaN) and ``diverged``. Histories go to ``run_dir/histories``."""
    rows = []
    for index, rate in enumerate(rates):
        try:
            result = train_scheduled(build_initial(), batches, val_data, optimizer_name, rate, epochs, seed, run_dir,
                                     f"rate_trial_{optimizer_name}_{index}", progress_every=progress_every,
                                     retries=0, save_best=False, validate_late=False)
            rmse = float(result.history[MONITOR].iloc[-1])
        except FloatingPointError:
            rmse = float("inf")
        rows.append({"optimizer": optimizer_name, "learning_rate": rate, "val_rmse_px": rmse,
                     "diverged": not np.isfinite(rmse)})
    return pd.DataFrame(rows)


def pick_grid_rate(trials: pd.DataFrame) -> float:
    """The rule fixed before the study's runs: the rate of the trial with the lowest final validation RMSE; where
    every trial diverged, the lowest trial rate times ``BELOW_GRID``."""
    finite = trials[np.isfinite(trials["val_rmse_px"])]
    if finite.empty:
        return float(trials["learning_rate"].min()) * BELOW_GRID
    return float(finite.loc[finite["val_rmse_px"].idxmin(), "learning_rate"])


def describe_rate_trials(name: str, trials: pd.DataFrame, floor_rmse: float) -> str:
    """One sentence: each trial's rate and final validation RMSE, the pick, and the mean shape's RMSE beside them."""
    scores = "; ".join(f"{row.learning_rate:.2g}: " + ("diverged" if row.diverged else f"{row.val_rmse_px:.3f} px")
                       for row in trials.itertuples())
    below = " (every trial diverged: half a decade below the lowest)" if trials["diverged"].all() else ""
    return (f"{name}: {scores}; picked {pick_grid_rate(trials):.2g}{below} (the mean shape scores {floor_rmse:.3f} px "
            "on the same faces).")


def plot_rate_trials(trials: dict[str, pd.DataFrame], floor_rmse: float) -> matplotlib.figure.Figure:
    """Final validation RMSE of each trial against its rate (log scale), one line per optimizer, the picked rate
    circled, diverged trials marked at the top, and the mean shape's RMSE as a dashed line."""
    fig, ax = plt.subplots(figsize=(7, 4))
    finite = [t.loc[~t["diverged"], "val_rmse_px"] for t in trials.values()]
    top = max([floor_rmse, *(f.max() for f in finite if len(f))]) * 1.05
    for name, trial in trials.items():
        scored = trial[~trial["diverged"]]
        line, = ax.plot(scored["learning_rate"], scored["val_rmse_px"], marker="o", label=name)
        pick = pick_grid_rate(trial)
        if len(scored):
            ax.plot(pick, scored.loc[scored["learning_rate"] == pick, "val_rmse_px"].iloc[0], "o", markersize=14,
                    markerfacecolor="none", color=line.get_color(), label=f"{name}: picked {pick:.2g}")
        diverged = trial[trial["diverged"]]
        if len(diverged):
            ax.plot(diverged["learning_rate"], [top] * len(diverged), "x", color=line.get_color(),
                    label=f"{name}: diverged")
    ax.axhline(floor_rmse, color="0.4", linestyle="--", label=f"mean shape ({floor_rmse:.3f} px)")
    ax.set(xscale="log", xlabel="peak learning rate of the trial (log scale)",
           ylabel="validation RMSE at the trial's end (px)", title="Rate trials: the same steps for each optimizer")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
