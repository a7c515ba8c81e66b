"""The optimizer study: runs on a fixed step budget with warmup and cosine decay, their convergence and seed spread.

Every run of the study starts from ``initial_model(build, seed)`` (the seed fixes the initial weights; the data order
and augmentation follow the same seed through the batches), trains for a fixed number of epochs under
``warmup_cosine`` with no early stopping and no plateau-based decay (on a fixed budget they would only cut the
schedule short), and keeps the best epoch by validation RMSE.
"""
from __future__ import annotations

import math
import os
from typing import Callable, Mapping

import keras
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fkp_helpers.plotting import plain_log_ticks
from fkp_helpers.training.loop import TrainingResult, train_model
from fkp_helpers.training.losses import MONITOR
from fkp_helpers.training.optimizers import warmup_cosine
from fkp_helpers.training.reproducibility import set_reproducible

DIVERGENCE_RETRIES = 3
"""A run whose loss turns NaN restarts from the same initial weights at half the peak rate, at most this often."""
CONVERGENCE_FRACTION = 0.2
"""The last fifth of the budget is where the validation curve must be flat."""
CONVERGENCE_TOLERANCE = 0.02
"""Flat: the validation RMSE moved by less than 2 % of its value over that last fifth."""


def initial_model(build: Callable[[], keras.Model], seed: int) -> keras.Model:
    """``build()`` after seeding everything with ``seed``: the same seed gives the same initial weights."""
    set_reproducible(seed)
    return build()


def train_scheduled(
    model: keras.Model,
    batches: keras.utils.PyDataset,
    val_data: tuple[np.ndarray, np.ndarray],
    optimizer_name: str,
    peak_rate: float,
    epochs: int,
    seed: int,
    run_dir: str | os.PathLike,
    name: str,
    *,
    progress_every: int = 1,
) -> TrainingResult:
    """``train_model`` for exactly ``epochs`` epochs under ``warmup_cosine(peak_rate, all steps)`` (its default
    warmup and floor, which ``plot_study_curves`` redraws).

    If the loss turns NaN, the run starts again from the same initial weights at half the peak rate, at most
    ``DIVERGENCE_RETRIES`` times (the result's ``learning_rate`` is the peak that was used)."""
    initial_weights = model.get_weights()
    for halvings in range(DIVERGENCE_RETRIES + 1):
        schedule = warmup_cosine(peak_rate / 2**halvings, epochs * len(batches))
        try:
            return train_model(model, batches, val_data, optimizer_name, run_dir, name, epochs, seed,
                               batch_size=batches.batch_size, learning_rate=schedule, reduce_lr_patience=None,
                               early_stopping_patience=None, progress_every=progress_every)
        except FloatingPointError:
            if halvings == DIVERGENCE_RETRIES:
                raise
            print(f"{name}: diverged at peak rate {peak_rate / 2**halvings:.3g}; starting again at half of it",
                  flush=True)
            model.set_weights(initial_weights)


def convergence(history: pd.DataFrame, fraction: float = CONVERGENCE_FRACTION,
                tolerance: float = CONVERGENCE_TOLERANCE) -> dict[str, float | bool | int]:
    """Whether the validation RMSE is flat over the last ``fraction`` of the epochs (at least the last two):
    ``(max - min) / last < tolerance`` over those epochs."""
    window = max(2, math.ceil(fraction * len(history)))
    tail = history[MONITOR].to_numpy()[-window:]
    change = float((tail.max() - tail.min()) / tail[-1])
    return {"epochs_in_window": int(min(window, len(history))), "first_px": float(tail[0]), "last_px": float(tail[-1]),
            "relative_change": change, "flat": bool(change < tolerance)}


def convergence_table(results: Mapping[str, TrainingResult]) -> pd.DataFrame:
    """``convergence`` of each run's history, one row per run."""
    return pd.DataFrame({name: convergence(result.history) for name, result in results.items()}).T


def spread_by_group(values: Mapping[str, float], group_of: Mapping[str, str]) -> pd.DataFrame:
    """Mean, sample standard deviation, min, max and count of ``values`` (one per run) within each group of runs."""
    frame = pd.DataFrame({"value": pd.Series(values, dtype=float), "group": pd.Series(group_of)}).dropna()
    table = frame.groupby("group", sort=False)["value"].agg(["mean", "std", "min", "max", "count"])
    return table.rename(columns={"std": "sd", "count": "runs"})


def plot_study_curves(results: Mapping[str, TrainingResult], group_of: Mapping[str, str],
                      batch_size: int) -> matplotlib.figure.Figure:
    """Validation RMSE against training steps and against wall-clock time, and the learning rate against steps (step
    by step, the ``warmup_cosine`` schedule ``train_scheduled`` applied); one thin line per run (seed), one colour per
    group; training RMSE dotted on the first panel."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    colours = {group: f"C{i}" for i, group in enumerate(dict.fromkeys(group_of[name] for name in results))}
    for name, result in results.items():
        history, colour = result.history, colours[group_of[name]]
        steps_per_epoch = math.ceil(result.train_images / batch_size)
        steps = history["epoch"] * steps_per_epoch
        label = group_of[name]
        axes[0].plot(steps, history[MONITOR], color=colour, marker=".", linewidth=1, label=label)
        axes[0].plot(steps, history["masked_rmse_px"], color=colour, linestyle=":", linewidth=1)
        axes[1].plot(history["seconds"].cumsum(), history[MONITOR], color=colour, marker=".", linewidth=1, label=label)
        schedule = warmup_cosine(result.learning_rate, result.epochs_run * steps_per_epoch)
        every_step = np.arange(1, result.epochs_run * steps_per_epoch + 1)
        axes[2].plot(every_step, [float(schedule(step)) for step in every_step], color=colour, linewidth=1, label=label)
    axes[0].set(xlabel="training steps", ylabel="RMSE (px); validation solid, training dotted",
                title="Validation RMSE by step")
    axes[1].set(xlabel="wall-clock time (s), validation included", ylabel="validation RMSE (px)",
                title="Validation RMSE by time")
    axes[2].set(xlabel="training steps", ylabel="learning rate (log)", yscale="log",
                title="Learning rate (warmup, cosine decay)")
    for ax in axes[:2]:
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    fig.legend(unique.values(), unique.keys(), loc="lower center", ncol=len(unique), fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
