import json

import pytest

from fkp_helpers.data.datasets import PROJECT_ROOT
from fkp_helpers.profiles import HALF_DECADE, PROFILES, get_profile
from fkp_helpers.training.pilots import budget_table, choose_budget, rejected_budgets


def test_profiles_grow_from_smoke_to_full():
    smoke, quick, study, full = (get_profile(n) for n in ("smoke", "quick", "study", "full"))
    assert smoke.synth_train < quick.synth_train == study.synth_train == full.synth_train == 7049
    assert smoke.epochs < quick.epochs < study.epochs == full.epochs
    assert 2 <= smoke.seeds == quick.seeds < study.seeds == 3 < full.seeds == 5
    assert quick.mixed_precision is study.mixed_precision is False and full.mixed_precision is None
    assert all(0 < p.val_fraction < 1 for p in PROFILES.values())


def test_quick_profile_is_the_study_with_less_training_and_tuning_only():
    quick, study = get_profile("quick"), get_profile("study")
    differ = {"name", "description", "epochs", "baseline_epochs", "seeds", "rate_factors", "grid_extensions"}
    same = {field: value for field, value in vars(study).items() if field not in differ}
    assert same == {field: getattr(quick, field) for field in same}, "same data, batches and range tests"


def test_study_tunes_each_optimizer_on_four_rates_half_a_decade_apart_and_extends_them():
    study = get_profile("study")
    ratios = [b / a for a, b in zip(study.rate_factors, study.rate_factors[1:])]
    assert len(study.rate_factors) >= 4 and ratios == pytest.approx([HALF_DECADE] * len(ratios))
    assert 1.0 in study.rate_factors and study.grid_extensions >= 1


def test_study_budget_is_a_budget_the_pilots_ran_and_did_not_reject_and_the_one_they_chose():
    table = budget_table(json.loads((PROJECT_ROOT / "results" / "budget_pilots.json").read_text()))
    study = get_profile("study")
    assert study.epochs == study.baseline_epochs and study.epochs in table.columns
    assert study.epochs not in rejected_budgets(table), "the pilots found this budget too short"
    assert choose_budget(table) in (None, study.epochs), "the pilots chose another budget"


def test_a_renamed_profile_is_found_by_its_earlier_name():
    assert get_profile("cpu") is get_profile("quick")


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(KeyError, match="unknown profile 'gpu'; choose one of study, quick, smoke, full"):
        get_profile("gpu")
