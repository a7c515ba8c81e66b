"""The budget pilots' table and the budget it selects."""
from __future__ import annotations

import math

import pytest

from fkp_helpers.training.pilots import (
    budget_table, choose_budget, describe_budget, plot_pilots, read_pilots, rejected_budgets,
)


def _run(optimizer: str, epochs: int, best: float) -> dict:
    return {"optimizer": optimizer, "precision": "float32", "epochs": epochs, "best_val_rmse_px": best,
            "peak_learning_rate": 0.01, "validation": {"epoch": [1, epochs], "rmse_px": [3.5, best]}}


def _record(*runs: dict) -> dict:
    return {"mean_shape_val_rmse_px": 3.7, "runs": {f"{r['optimizer']}_{r['epochs']}": r for r in runs}}


def test_budget_table_sets_each_budget_beside_its_twin_at_twice_the_epochs():
    table = budget_table(_record(_run("sgd", 15, 2.2), _run("sgd", 30, 2.0), _run("sgd", 60, 1.98)))
    assert math.isclose(table.loc[("sgd", "float32"), "ratio_to_2x_15"], 1.1)
    assert math.isclose(table.loc[("sgd", "float32"), "ratio_to_2x_30"], 2.0 / 1.98)
    assert "ratio_to_2x_60" not in table


def test_choose_budget_takes_the_shortest_budget_within_tolerance_for_every_optimizer():
    runs = [_run("sgd", 15, 2.2), _run("sgd", 30, 2.0), _run("sgd", 60, 1.98),
            _run("adam", 15, 2.03), _run("adam", 30, 2.0), _run("adam", 60, 1.99)]
    # Adam alone would settle at 15 epochs; SGD needs 30, so the study's budget is 30.
    assert choose_budget(budget_table(_record(*runs))) == 30


def test_choose_budget_reads_one_precision_at_a_time():
    runs = [_run("sgd", 30, 2.0), _run("sgd", 60, 1.98), {**_run("sgd", 60, 1.9), "precision": "mixed_bfloat16"}]
    record = {"mean_shape_val_rmse_px": 3.7, "runs": {str(i): run for i, run in enumerate(runs)}}
    assert choose_budget(budget_table(record)) == 30  # the bfloat16 pilot, with no 30-epoch twin, is not read
    assert choose_budget(budget_table(record), precision="mixed_bfloat16") is None


def test_choose_budget_is_none_until_a_budget_and_its_twin_have_both_run():
    assert choose_budget(budget_table(_record(_run("sgd", 60, 2.0)))) is None
    runs = [_run("sgd", 30, 2.0), _run("sgd", 60, 1.98), _run("adam", 60, 2.0)]
    assert choose_budget(budget_table(_record(*runs))) is None  # Adam's 30-epoch twin is missing


def test_describe_budget_says_where_a_run_stands_against_the_chosen_budget():
    record = {**_record(_run("sgd", 30, 2.0), _run("sgd", 60, 1.98)), "data": "real faces: 2852 photographs"}
    assert describe_budget(record, 30).startswith("The budget pilots (real faces) chose B = 30 epochs: each ")
    assert describe_budget(record, 60).endswith("This run trains 60 epochs a run, at the budget or above it.")
    assert "below it: its curves are still falling" in describe_budget(record, 3)
    assert "have not settled the budget yet" in describe_budget(_record(_run("sgd", 30, 2.0)), 30)
    unsettled = _record(_run("sgd", 30, 2.2), _run("sgd", 60, 1.9))  # 30 rejected, 60 not yet checked against 120
    assert rejected_budgets(budget_table(unsettled)) == [30]
    assert "rejected 30 epochs" in describe_budget(unsettled, 3) and "not the study's" in describe_budget(unsettled, 3)
    assert describe_budget(unsettled, 60).endswith("a run of 60 epochs is not known to have converged.")


def test_a_missing_pilot_record_names_the_file_and_the_script(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"none\.json: no budget pilots recorded; python scripts/budget_pilots"):
        read_pilots(tmp_path / "none.json")


def test_plot_pilots_draws_a_panel_per_optimizer_with_the_floor():
    fig = plot_pilots(_record(_run("sgd", 30, 2.0), _run("adam", 30, 2.1)))
    assert [ax.get_title().split(",")[0] for ax in fig.axes] == ["VGG + SGD", "VGG + Adam"]
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes)  # the run and the mean shape's line
