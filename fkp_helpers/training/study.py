"""The optimizer study: runs on a fixed step budget with warmup and cosine decay, their convergence and seed spread.

Every run of the study starts from ``initial_model(build, seed)`` (the seed fixes the initial weights; the data order
and augmentation follow the same seed through the batches), trains for a fixed number of epochs under
``warmup_cosine`` with no early stopping and no plateau-based decay (on a fixed budget they would only cut the
schedule short), and keeps the best epoch by validation RMSE. Inside the last fifth of the steps it also measures the
validation RMSE at ``LATE_POINTS`` evenly spaced steps, so ``convergence`` can see the end of the schedule at a finer
grain than epochs.
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

from fkp_helpers.training.loop import TrainingResult, train_model
from fkp_helpers.training.losses import MONITOR
from fkp_helpers.training.optimizers import warmup_cosine
from fkp_helpers.training.reproducibility import set_reproducible

DIVERGENCE_RETRIES = 3
"""A run whose loss turns NaN restarts from the same initial weights at half the peak rate, at most this often."""
CONVERGENCE_FRACTION = 0.2
"""The last fifth of the steps is where the validation curve must be flat."""
CONVERGENCE_TOLERANCE = 0.02
"""Flat: the validation RMSE moved by less than 2 % of its value over that last fifth."""
LATE_POINTS = 4
"""Validation measurements inside the last fifth, before the final one: at 80, 85, 90 and 95 % of the steps."""
FLOOR_MARGIN = 0.02
"""``near_floor``: a run must beat the mean shape's validation RMSE by at least this share to count as learning."""


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
    retries: int = DIVERGENCE_RETRIES,
) -> TrainingResult:
    """``train_model`` for exactly ``epochs`` epochs under ``warmup_cosine(peak_rate, all steps)`` (its default
    warmup and floor, which ``plot_study_curves`` redraws), validating also at ``late_steps`` of the budget.

    If the loss turns NaN, the run starts again from the same initial weights at half the peak rate, at most
    ``retries`` times (the result's ``learning_rate`` is the peak that was used); after that it raises
    ``FloatingPointError``."""
    initial_weights = model.get_weights()
    total_steps = epochs * len(batches)
    for halvings in range(retries + 1):
        schedule = warmup_cosine(peak_rate / 2**halvings, total_steps)
        try:
            return train_model(model, batches, val_data, optimizer_name, run_dir, name, epochs, seed,
                               batch_size=batches.batch_size, learning_rate=schedule, reduce_lr_patience=None,
                               early_stopping_patience=None, progress_every=progress_every,
                               validate_at_steps=late_steps(total_steps))
        except FloatingPointError:
            if halvings == retries:
                raise
            print(f"{name}: diverged at peak rate {peak_rate / 2**halvings:.3g}; starting again at half of it",
                  flush=True)
            model.set_weights(initial_weights)


def late_steps(total_steps: int, fraction: float = CONVERGENCE_FRACTION, points: int = LATE_POINTS) -> list[int]:
    """``points`` evenly spaced steps from the start of the last ``fraction`` of ``total_steps``, before its end."""
    first = (1 - fraction) * total_steps
    steps = {math.ceil(first + k * fraction * total_steps / points - 1e-9) for k in range(points)}
    return sorted(steps - {total_steps})


def validation_curve(result: TrainingResult) -> pd.DataFrame:
    """Every validation measurement of a run, in order: ``epoch`` (fractional inside an epoch) and the RMSE (px);
    the epoch ends from its history, the points inside epochs from its ``late_validation``."""
    parts = [result.history[["epoch", MONITOR]]]
    if result.late_validation is not None:
        parts.append(result.late_validation[["epoch", MONITOR]])
    return pd.concat(parts).sort_values("epoch", kind="stable").reset_index(drop=True)


def convergence(result: TrainingResult, fraction: float = CONVERGENCE_FRACTION,
                tolerance: float = CONVERGENCE_TOLERANCE) -> dict[str, float | bool | int]:
    """Whether the validation RMSE is flat over the last ``fraction`` of the run's steps: ``(max - min) / last <
    tolerance`` over every validation measurement there (``validation_curve``). Fewer than two measurements there
    (a run without ``late_validation`` and too few epochs) cannot show flatness and count as not flat."""
    curve = validation_curve(result)
    tail = curve.loc[curve["epoch"] >= (1 - fraction) * result.epochs_run - 1e-9, MONITOR].to_numpy()
    change = float((tail.max() - tail.min()) / tail[-1]) if len(tail) >= 2 else float("nan")
    return {"points_in_window": len(tail), "first_px": float(tail[0]), "last_px": float(tail[-1]),
            "relative_change": change, "flat": bool(change < tolerance)}


def convergence_table(results: Mapping[str, TrainingResult]) -> pd.DataFrame:
    """``convergence`` of each run, one row per run."""
    return pd.DataFrame({name: convergence(result) for name, result in results.items()}).T


def near_floor(values: Mapping[str, float], floor: float, margin: float = FLOOR_MARGIN) -> list[str]:
    """The runs (names of ``values``, RMSE in px) above ``(1 - margin) * floor``: no better than predicting the mean
    shape by ``margin``, so they learned next to nothing from the images."""
    return [name for name, value in values.items() if value > (1 - margin) * floor]


def spread_by_group(values: Mapping[str, float], group_of: Mapping[str, str]) -> pd.DataFrame:
    """Mean, sample standard deviation, min, max and count of ``values`` (one per run) within each group of runs."""
    frame = pd.DataFrame({"value": pd.Series(values, dtype=float), "group": pd.Series(group_of)}).dropna()
    table = frame.groupby("group", sort=False)["value"].agg(["mean", "std", "min", "max", "count"])
    return table.rename(columns={"std": "sd", "count": "runs"})


def plot_study_curves(results: Mapping[str, TrainingResult], group_of: Mapping[str, str],
                      batch_size: int) -> matplotlib.figure.Figure:
    """Validation RMSE against training steps and against wall-clock time, and the learning rate against steps (step
    by step, the ``warmup_cosine`` schedule ``train_scheduled`` applied); one thin line per run (seed), one colour per
    group; training RMSE dotted on the first panel, which also shows the measurements inside epochs
    (``validation_curve``) and shades the last fifth of the steps, where ``convergence`` looks."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    colours = {group: f"C{i}" for i, group in enumerate(dict.fromkeys(group_of[name] for name in results))}
    windows = set()
    for name, result in results.items():
        history, colour = result.history, colours[group_of[name]]
        steps_per_epoch = math.ceil(result.train_images / batch_size)
        steps = history["epoch"] * steps_per_epoch
        label = group_of[name]
        curve = validation_curve(result)
        axes[0].plot(curve["epoch"] * steps_per_epoch, curve[MONITOR], color=colour, marker=".", linewidth=1,
                     label=label)
        axes[0].plot(steps, history["masked_rmse_px"], color=colour, linestyle=":", linewidth=1)
        axes[1].plot(history["seconds"].cumsum(), history[MONITOR], color=colour, marker=".", linewidth=1, label=label)
        schedule = warmup_cosine(result.learning_rate, result.epochs_run * steps_per_epoch)
        every_step = np.arange(1, result.epochs_run * steps_per_epoch + 1)
        axes[2].plot(every_step, [float(schedule(step)) for step in every_step], color=colour, linewidth=1, label=label)
        windows.add(result.epochs_run * steps_per_epoch)
    for i, end in enumerate(sorted(windows)):
        axes[0].axvspan((1 - CONVERGENCE_FRACTION) * end, end, color="0.85", alpha=0.5, zorder=0,
                        label="last fifth of a run's steps" if i == 0 else None)
    axes[0].set(xlabel="training steps", ylabel="RMSE (px); validation solid, training dotted",
                title="Validation RMSE by step")
    axes[1].set(xlabel="wall-clock time (s), validation included", ylabel="validation RMSE (px)",
                title="Validation RMSE by time")
    axes[2].set(xlabel="training steps", ylabel="learning rate (log)", yscale="log",
                title="Learning rate (warmup, cosine decay)")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    fig.legend(unique.values(), unique.keys(), loc="lower center", ncol=len(unique), fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
