import pytest

from fkp_helpers.profiles import PROFILES, get_profile


def test_profiles_grow_from_smoke_to_full():
    smoke, cpu, full = (get_profile(n) for n in ("smoke", "cpu", "full"))
    assert smoke.synth_train < cpu.synth_train == full.synth_train == 7049
    assert smoke.epochs < cpu.epochs < full.epochs
    assert 2 <= smoke.seeds == cpu.seeds < full.seeds == 5
    assert cpu.mixed_precision is False and full.mixed_precision is None, "cpu: float32 on every machine"
    assert all(0 < p.val_fraction < 1 for p in PROFILES.values())


def test_long_profile_is_the_cpu_profile_with_longer_training_only():
    cpu, long = get_profile("cpu"), get_profile("long")
    assert long.epochs > cpu.epochs and long.baseline_epochs > cpu.baseline_epochs
    same = {field: value for field, value in vars(cpu).items() if field not in ("name", "description", "epochs",
                                                                                 "baseline_epochs")}
    assert same == {field: getattr(long, field) for field in same}, "same data, batches, seeds and range tests"


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(KeyError, match="unknown profile 'gpu'; choose one of smoke, cpu, long, full"):
        get_profile("gpu")
