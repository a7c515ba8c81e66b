"""What a notebook shows of training runs: the curves, the results table and the results file."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from fkp_helpers.plotting import plain_log_ticks
from fkp_helpers.training.loop import TrainingResult


def plot_training_curves(
    histories: dict[str, pd.DataFrame],
    metrics: Sequence[tuple[str, str]] = (("loss", "loss (normalised units)"), ("masked_mae", "MAE (px)"),
                                          ("masked_rmse_px", "RMSE (px)")),
):
    """One panel per metric, log scale: each run's training (solid) and validation (dashed) curve on the same axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
    for ax, (column, label) in zip(axes[0], metrics):
        for i, (name, history) in enumerate(histories.items()):
            colour = f"C{i}"
            ax.plot(history["epoch"], history[column], color=colour, marker=".", label=f"{name} train")
            ax.plot(history["epoch"], history[f"val_{column}"], color=colour, marker=".", linestyle="--",
                    label=f"{name} validation")
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_title(label, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def results_table(results: Sequence[TrainingResult], extra_rows: dict[str, dict[str, Any]] | None = None) -> pd.DataFrame:
    """One row per run: optimizer, epochs, best epoch, best validation RMSE (px), s/epoch, training images/s.

    ``extra_rows`` adds named rows with some of these columns (e.g. the mean-shape floor); the others stay empty.
    """
    rows = [r.summary() for r in results] + [{"name": name, **row} for name, row in (extra_rows or {}).items()]
    table = pd.DataFrame(rows).drop(columns=["model_path", "history_path"]).set_index("name")
    for column in ("epochs_run", "best_epoch", "train_images"):
        table[column] = table[column].astype("Int64")
    return table


def write_results_json(results: Sequence[TrainingResult], path: str | os.PathLike, **extra: Any) -> Path:
    """Write ``{"runs": {name: summary}, **extra}`` as JSON, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"runs": {r.name: r.summary() for r in results}, **extra}
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    os.replace(tmp, path)
    return path
