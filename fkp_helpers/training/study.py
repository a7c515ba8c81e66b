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
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from fkp_helpers.plotting import SEED_STYLES, split_seed
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


def seed_label(name: str, position: int) -> str:
    """``"seed k"`` for a run named ``..._s<k>``, else ``"run <position + 1>"`` (its place among its group's runs)."""
    seed = split_seed(name)[1]
    return f"run {position + 1}" if seed is None else f"seed {seed}"


def _run_styles(results: Mapping[str, TrainingResult], group_of: Mapping[str, str]) -> dict[str, dict]:
    """Each run's colour (one a group), line style and marker (one a seed) and seed label for ``plot_study_curves``."""
    groups = list(dict.fromkeys(group_of[name] for name in results))
    places = {name: [n for n in results if group_of[n] == group_of[name]].index(name) for name in results}
    seeds = {name: seed_label(name, places[name]) for name in results}
    order = sorted(set(seeds.values()), key=lambda label: (label.split()[0], int(label.split()[1])))
    styles = {}
    for name in results:
        linestyle, marker = SEED_STYLES[order.index(seeds[name]) % len(SEED_STYLES)]
        styles[name] = dict(color=f"C{groups.index(group_of[name])}", linestyle=linestyle, marker=marker,
                            seed=seeds[name], rank=order.index(seeds[name]))
    return styles


def plot_study_curves(results: Mapping[str, TrainingResult], group_of: Mapping[str, str], batch_size: int,
                      floor_px: float | None = None) -> matplotlib.figure.Figure:
    """Four panels: validation RMSE against training steps and against wall-clock time (the mean shape's validation
    RMSE ``floor_px``, where given, as a dashed line on both), training RMSE against steps on its own axis (it sits
    well above validation), and the learning rate against steps (step by step, the ``warmup_cosine`` schedule
    ``train_scheduled`` applied). One colour per group, one line style and marker per seed (``seed_label``); the
    validation-by-step panel also shows the measurements inside epochs (``validation_curve``) and shades the last
    fifth of the steps, where ``convergence`` looks."""
    fig, axes = plt.subplots(2, 2, figsize=(10.5, 7.6), layout="constrained")
    (by_step, by_time), (training, rates) = axes
    styles = _run_styles(results, group_of)
    windows = set()
    for name, result in results.items():
        history, style = result.history, styles[name]
        line = dict(color=style["color"], linestyle=style["linestyle"], linewidth=1.2)
        dots = dict(marker=style["marker"], markersize=4)
        steps_per_epoch = math.ceil(result.train_images / batch_size)
        curve = validation_curve(result)
        by_step.plot(curve["epoch"] * steps_per_epoch, curve[MONITOR], **line, **dots)
        by_time.plot(history["seconds"].cumsum(), history[MONITOR], **line, **dots)
        training.plot(history["epoch"] * steps_per_epoch, history["masked_rmse_px"], **line, **dots)
        schedule = warmup_cosine(result.learning_rate, result.epochs_run * steps_per_epoch)
        every_step = np.arange(1, result.epochs_run * steps_per_epoch + 1)
        rates.plot(every_step, [float(schedule(step)) for step in every_step], **line)
        windows.add(result.epochs_run * steps_per_epoch)
    for end in sorted(windows):
        by_step.axvspan((1 - CONVERGENCE_FRACTION) * end, end, color="0.85", alpha=0.5, zorder=0)
    if floor_px is not None:
        for ax in (by_step, by_time):
            ax.axhline(floor_px, color="black", linestyle="--", linewidth=1)
    by_step.set(xlabel="training steps", ylabel="validation RMSE (px)", title="Validation RMSE by step")
    by_time.set(xlabel="wall-clock time (s), validation included", ylabel="validation RMSE (px)",
                title="Validation RMSE by time")
    training.set(xlabel="training steps", ylabel="training RMSE (px)",
                 title="Training RMSE by step (augmented batches, dropout on)")
    rates.set(xlabel="training steps", ylabel="learning rate (log)", yscale="log",
              title="Learning rate (warmup, cosine decay)")
    for ax in axes.flat:
        ax.grid(True, which="both", alpha=0.3)
    handles = _study_legend_handles(styles, group_of, results, floor_px, bool(windows))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), fontsize=8)
    return fig


def _study_legend_handles(styles: Mapping[str, dict], group_of: Mapping[str, str],
                          results: Mapping[str, TrainingResult], floor_px: float | None,
                          shaded: bool) -> list[Line2D | Patch]:
    """Legend entries of ``plot_study_curves``: a colour per group, a line style and marker per seed, the floor and
    the shaded window."""
    groups = {group_of[name]: styles[name]["color"] for name in results}
    seeds = sorted({styles[name]["rank"]: styles[name] for name in results}.items())
    handles = [Line2D([], [], color=colour, linewidth=2.5, label=group) for group, colour in groups.items()]
    handles += [Line2D([], [], color="0.3", linestyle=style["linestyle"], marker=style["marker"], markersize=4,
                       linewidth=1.2, label=style["seed"]) for _, style in seeds]
    if floor_px is not None:
        handles.append(Line2D([], [], color="black", linestyle="--", linewidth=1,
                              label=f"mean shape, validation ({floor_px:.3f} px)"))
    if shaded:
        handles.append(Patch(color="0.85", alpha=0.5, label="last fifth of a run's steps"))
    return handles
