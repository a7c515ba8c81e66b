"""The budget pilots: the study's runs on a ladder of doubling budgets, and the budget they select.

``scripts/budget_pilots.py`` trains them and records each run with ``run_record`` in ``results/budget_pilots.json``;
``budget_table`` and ``choose_budget`` read that record, ``plot_pilots`` draws it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib.figure
import matplotlib.pyplot as plt
import pandas as pd

from fkp_helpers.data.datasets import PROJECT_ROOT
from fkp_helpers.training.loop import TrainingResult
from fkp_helpers.training.losses import MONITOR
from fkp_helpers.training.study import validation_curve

BUDGET_TOLERANCE = 0.02
"""B is within tolerance when its best validation RMSE is at most 2 % above its twin's at 2B."""
PILOTS_FILE = PROJECT_ROOT / "results" / "budget_pilots.json"
"""The committed record of the pilots (``scripts/budget_pilots.py`` writes it)."""


def read_pilots(path: Path = PILOTS_FILE) -> dict[str, Any]:
    """The pilots' record; a missing file is an error that names it and the script that writes it."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no budget pilots recorded; python scripts/budget_pilots.py trains them")
    return json.loads(path.read_text())


def run_record(result: TrainingResult, **extra: Any) -> dict[str, Any]:
    """One pilot as JSON: its settings, best validation RMSE, every validation measurement and the training RMSE
    and seconds of each epoch; ``extra`` (precision, machine) is added as is."""
    curve = validation_curve(result)
    history = result.history
    return {
        "optimizer": result.optimizer,
        "peak_learning_rate": result.learning_rate,
        "epochs": result.epochs_run,
        "best_epoch": result.best_epoch,
        "best_val_rmse_px": result.best_val_rmse_px,
        "images_per_second": result.images_per_second,
        "validation": {"epoch": curve["epoch"].round(4).tolist(), "rmse_px": curve[MONITOR].round(4).tolist()},
        "train_rmse_px": history["masked_rmse_px"].round(4).tolist(),
        "epoch_seconds": history["seconds"].round(2).tolist(),
        **extra,
    }


def budget_table(record: dict[str, Any]) -> pd.DataFrame:
    """Best validation RMSE of each pilot: a row per optimizer and precision, a column per budget (epochs), and
    ``ratio_to_2x_<B>``: the run at B over its twin at 2B (NaN where the twin has not run)."""
    rows = pd.DataFrame([{"optimizer": run["optimizer"], "precision": run["precision"], "epochs": run["epochs"],
                          "best": run["best_val_rmse_px"]} for run in record.get("runs", {}).values()])
    if rows.empty:
        return rows
    table = rows.pivot_table(index=["optimizer", "precision"], columns="epochs", values="best")
    for budget in table.columns.tolist():
        if 2 * budget in table.columns:
            table[f"ratio_to_2x_{budget}"] = table[budget] / table[2 * budget]
    return table


def twin_ratios(table: pd.DataFrame, precision: str = "float32") -> pd.DataFrame:
    """Each optimizer's pilot in ``precision`` over its twin at twice the budget: a row per optimizer, a column per
    budget (epochs) whose twin budget has run; NaN where an optimizer's twin has not."""
    if table.empty or precision not in table.index.get_level_values("precision"):
        return pd.DataFrame()
    table = table.xs(precision, level="precision")
    ratios = table[[column for column in table.columns if isinstance(column, str)]]
    return ratios.rename(columns=lambda column: int(column.removeprefix("ratio_to_2x_")))


def choose_budget(table: pd.DataFrame, precision: str = "float32", tolerance: float = BUDGET_TOLERANCE) -> int | None:
    """The shortest budget at which every optimizer's pilot in ``precision`` is within ``tolerance`` of its run at
    twice the budget; None while no measured budget qualifies."""
    ratios = twin_ratios(table, precision)
    return next((int(budget) for budget in sorted(ratios.columns)
                 if ratios[budget].notna().all() and (ratios[budget] <= 1 + tolerance).all()), None)


def rejected_budgets(table: pd.DataFrame, precision: str = "float32", tolerance: float = BUDGET_TOLERANCE) -> list[int]:
    """The budgets at which some optimizer's pilot in ``precision`` ended more than ``tolerance`` above its run at
    twice the budget: too short, whatever the other optimizers show."""
    ratios = twin_ratios(table, precision)
    return sorted(int(budget) for budget in ratios.columns if (ratios[budget] > 1 + tolerance).any())


def describe_budget(record: dict[str, Any], epochs: int) -> str:
    """One sentence: the budget the pilots chose (``choose_budget``), on what data, and where a run of ``epochs``
    epochs stands against it; while none is chosen, against the longest budget they rejected."""
    table = budget_table(record)
    chosen, rejected = choose_budget(table), rejected_budgets(table)
    data = record.get("data", "?").split(":")[0]
    below = "below it: its curves are still falling when it stops, so its numbers are not the study's"
    if chosen is not None:
        verdict = "at the budget or above it" if epochs >= chosen else below
        return (f"The budget pilots ({data}) chose B = {chosen} epochs: each optimizer's best validation RMSE at "
                f"{chosen} epochs is within {BUDGET_TOLERANCE:.0%} of its own run at {2 * chosen}. This run trains "
                f"{epochs} epochs a run, {verdict}.")
    if rejected and epochs <= rejected[-1]:
        return (f"The budget pilots ({data}) have not settled the budget yet, but rejected {rejected[-1]} epochs (an "
                f"optimizer's best validation RMSE there is more than {BUDGET_TOLERANCE:.0%} above its run at "
                f"{2 * rejected[-1]}). This run trains {epochs} epochs a run, {below}.")
    return (f"The budget pilots ({data}) have not settled the budget yet: a run of {epochs} epochs is not known to "
            "have converged.")


def plot_pilots(record: dict[str, Any]) -> matplotlib.figure.Figure:
    """Validation RMSE against epochs, a panel per optimizer and a line per budget, with the mean shape's floor."""
    optimizers = list(dict.fromkeys(run["optimizer"] for run in record["runs"].values()))
    budgets = sorted({run["epochs"] for run in record["runs"].values()})
    colours = dict(zip(budgets, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    fig, axes = plt.subplots(1, len(optimizers), figsize=(5.5 * len(optimizers), 4), sharey=True, squeeze=False)
    for ax, optimizer in zip(axes[0], optimizers):
        runs = sorted((run for run in record["runs"].values() if run["optimizer"] == optimizer),
                      key=lambda run: (run["epochs"], run["precision"]))
        for run in runs:
            label = f"{run['epochs']} epochs, best {run['best_val_rmse_px']:.3f} px"
            linestyle = "-"
            if run["precision"] != "float32":
                label += f" ({run['precision']})"
                linestyle = ":"
            ax.plot(run["validation"]["epoch"], run["validation"]["rmse_px"], linewidth=1.2, label=label,
                    color=colours[run["epochs"]], linestyle=linestyle)
        ax.axhline(record["mean_shape_val_rmse_px"], color="0.4", linestyle="--", linewidth=1,
                   label=f"mean shape {record['mean_shape_val_rmse_px']:.3f} px")
        ax.set(title=f"VGG + {'SGD' if optimizer == 'sgd' else 'Adam'}, peak {runs[0]['peak_learning_rate']:g}",
               xlabel="epoch (warmup, then cosine decay over each run's budget)", ylabel="validation RMSE (px)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
