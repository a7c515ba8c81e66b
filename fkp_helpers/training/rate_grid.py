"""The rate trials: each optimizer's peak rate settled by full-length runs at and below its range test's reading.

A range test reads a rate from where the training loss is lowest before it diverges, so its reading hangs on the
step at which one batch blows up: two tests that agreed within 0.5 % for 45 of 50 steps read Adam rates 3.2 times
apart, and at the higher one Adam learned nothing (README, "The protocol was revised twice"). The trials settle the
rate by what the study measures (Choi et al. 2019: tune at the final budget): each optimizer trains one run of the
study's full budget at each rate of ``rate_grid`` (multiples of its reading, half a decade apart: the profile's
``rate_factors``), from the first seed's initial weights, on its batches, under the study's schedule; while the best
sits at an edge of the rates tried, one more trial half a decade beyond that edge, up to the profile's
``grid_extensions`` (``rate_trials``). The rate whose run reaches the lowest validation RMSE is the peak
(``pick_grid_rate``; where every trial diverges, half a decade below the lowest, and the study's own restarts halve
it further). The picked trial is the study's run of that seed (``adopt_trial``). Both optimizers get the same grid
rule: equal tuning effort. The range test places the grid; the trials pick the rate.

Shorter trials were tried first and measured nothing here: of six one-epoch trials (a third of the quick profile's
budget) on the real faces, five ended within 2 % of the mean shape's validation RMSE and one diverged.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Mapping

import keras
import matplotlib.figure
import matplotlib.ticker
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fkp_helpers.profiles import HALF_DECADE
from fkp_helpers.training.loop import TrainingResult, copy_run
from fkp_helpers.training.study import train_scheduled


@dataclass
class RateTrials:
    """One optimizer's trials: ``table`` has a row per rate (``learning_rate``, ``val_rmse_px``: the run's best
    validation RMSE, infinite where it diverged, ``diverged``); ``runs`` holds the finished runs by rate."""

    table: pd.DataFrame
    runs: dict[float, TrainingResult]


def rate_grid(reading: float, factors: tuple[float, ...]) -> list[float]:
    """The trial rates for a range test's ``reading``, lowest first."""
    if reading <= 0:
        raise ValueError(f"a range test's reading must be a positive rate, got {reading}")
    return sorted(reading * factor for factor in factors)


def rate_trials(
    build_initial: Callable[[], keras.Model],
    batches: keras.utils.PyDataset,
    val_data: tuple[np.ndarray, np.ndarray],
    optimizer_name: str,
    rates: list[float],
    epochs: int,
    seed: int,
    run_dir: str | os.PathLike,
    name: str,
    progress_every: int = 1,
    extensions: int = 0,
) -> RateTrials:
    """One ``train_scheduled`` run per rate, named ``<name>_trial<k>`` in the order trained, from ``build_initial()``,
    with no restart when it diverges; then, up to ``extensions`` times while the best trial sits at the lowest or
    highest rate tried (or every trial diverged), one more trial half a decade beyond that edge (``next_rate``)."""
    rows, runs, pending = [], {}, sorted(rates)
    while pending:
        rate = pending.pop(0)
        try:
            runs[rate] = train_scheduled(build_initial(), batches, val_data, optimizer_name, rate, epochs, seed,
                                         run_dir, f"{name}_trial{len(rows)}", progress_every=progress_every, retries=0)
            rmse = runs[rate].best_val_rmse_px
        except FloatingPointError:
            rmse = float("inf")
        rows.append({"learning_rate": rate, "val_rmse_px": rmse, "diverged": not np.isfinite(rmse)})
        if not pending and len(rows) < len(rates) + extensions:
            pending = [rate for rate in [next_rate(pd.DataFrame(rows))] if rate is not None]
    return RateTrials(pd.DataFrame(rows), runs)


def next_rate(table: pd.DataFrame) -> float | None:
    """The trial that would bracket the pick: half a decade below the lowest rate where the pick is there (or every
    trial diverged), above the highest where it is there; None where the pick lies between two trials."""
    where = grid_position(table)
    if where in ("lowest", "below"):
        return float(table["learning_rate"].min()) / HALF_DECADE
    return float(table["learning_rate"].max()) * HALF_DECADE if where == "highest" else None


def pick_grid_rate(table: pd.DataFrame) -> float:
    """The rule fixed before the study's runs: the rate of the trial with the lowest validation RMSE; where every
    trial diverged, half a decade below the lowest trial rate."""
    finite = table[np.isfinite(table["val_rmse_px"])]
    if finite.empty:
        return float(table["learning_rate"].min()) / HALF_DECADE
    return float(finite.loc[finite["val_rmse_px"].idxmin(), "learning_rate"])


def adopt_trial(trials: RateTrials, rate: float, name: str) -> TrainingResult | None:
    """The trial run at ``rate``, copied under the study's run ``name`` (``copy_run``), or None where no trial
    finished at that rate (the study trains that run itself)."""
    run = trials.runs.get(rate)
    return None if run is None else copy_run(run, name)


def describe_rate_trials(name: str, table: pd.DataFrame, floor_rmse: float) -> str:
    """One sentence: each trial's rate and validation RMSE, the pick, and the mean shape's RMSE beside them."""
    scores = "; ".join(f"{row.learning_rate:.2g}: " + ("diverged" if row.diverged else f"{row.val_rmse_px:.3f} px")
                       for row in table.itertuples())
    below = " (every trial diverged: half a decade below the lowest)" if table["diverged"].all() else ""
    return (f"{name}: {scores}; picked {pick_grid_rate(table):.2g}{below} (the mean shape scores {floor_rmse:.3f} px "
            "on the same faces).")


def grid_position(table: pd.DataFrame) -> str:
    """Where ``pick_grid_rate`` lies among a trial table's rates: ``"lowest"``, ``"highest"``, ``"inside"`` or
    ``"below"`` (every trial diverged)."""
    rates, pick = table["learning_rate"], pick_grid_rate(table)
    if pick < rates.min():
        return "below"
    return "lowest" if pick == rates.min() else "highest" if pick == rates.max() else "inside"


def describe_grid_edges(tables: Mapping[str, pd.DataFrame]) -> str:
    """One sentence on whether each optimizer's pick is bracketed by its trials: a pick at the lowest or highest
    trial rate (with a two-rate grid, always) leaves a better rate possible beyond it, untried."""
    places = {"lowest": "at its lowest trial rate", "highest": "at its highest trial rate",
              "below": "below its grid (every trial diverged)"}
    edges = {name: grid_position(table) for name, table in tables.items()}
    at_edge = [f"{name} {places[where]} ({pick_grid_rate(tables[name]):.2g})"
               for name, where in edges.items() if where != "inside"]
    if not at_edge:
        return "Every pick lies between two trial rates: each optimizer's rate is bracketed by its trials."
    return (f"Not bracketed by the trials: {', '.join(at_edge)}; a better rate may lie beyond, untried, so the "
            "comparison is of the picked rates, not of each optimizer at its best rate.")


def plot_rate_trials(tables: dict[str, pd.DataFrame], floor_rmse: float) -> matplotlib.figure.Figure:
    """Best validation RMSE of each trial against its rate (log scale): a marker per trial labelled with its rate, one
    colour per optimizer, joined by a thin dotted line only where an optimizer has 3 or more scored rates (two points
    show no curve); the picked rate circled, diverged trials marked (and labelled) at the top, and the mean shape's
    RMSE as a dashed line."""
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    finite = [t.loc[~t["diverged"], "val_rmse_px"] for t in tables.values()]
    top = max([floor_rmse, *(f.max() for f in finite if len(f))]) * 1.05
    above = dict(textcoords="offset points", xytext=(0, 9), ha="center", va="bottom", fontsize=8)
    below = dict(above, xytext=(0, -9), va="top")
    for i, (name, table) in enumerate(tables.items()):
        colour = f"C{i}"
        scored = table[~table["diverged"]].sort_values("learning_rate")
        ax.plot(scored["learning_rate"], scored["val_rmse_px"], linestyle=":" if len(scored) >= 3 else "none",
                linewidth=1, marker="o", markersize=6, color=colour, label=name)
        for rate, rmse in zip(scored["learning_rate"], scored["val_rmse_px"]):
            ax.annotate(f"{rate:.2g}", (rate, rmse), color=colour, **above)
        pick = pick_grid_rate(table)
        if len(scored):
            ax.plot(pick, scored.loc[scored["learning_rate"] == pick, "val_rmse_px"].iloc[0], "o", markersize=14,
                    markerfacecolor="none", markeredgewidth=1.5, color=colour, label=f"{name}: picked {pick:.2g}")
        diverged = table[table["diverged"]]
        if len(diverged):
            ax.plot(diverged["learning_rate"], [top] * len(diverged), "x", markersize=8, color=colour,
                    label=f"{name}: diverged")
            for rate in diverged["learning_rate"]:
                ax.annotate(f"{rate:.2g}", (rate, top), color=colour, **below)
    ax.axhline(floor_rmse, color="0.3", linestyle="--", label=f"mean shape ({floor_rmse:.3f} px)")
    rates = sorted({rate for table in tables.values() for rate in table["learning_rate"]})
    ax.set_xscale("log")
    ax.set_xlim(rates[0] / 10**0.2, rates[-1] * 10**0.2)
    ax.margins(y=0.12)  # room above the highest point for its label
    ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:.3g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set(xlabel="peak learning rate of the trial (log scale; each trial labelled with its rate)",
           ylabel="best validation RMSE of the trial (px)", title="Rate trials: the same budget for each optimizer")
    ax.grid(True, which="both", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8, loc="outside right upper")
    return fig
