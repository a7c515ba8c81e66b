"""Tests for fkp_helpers.training.optimizers: the study's optimizer settings and the schedules."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from fkp_helpers.training.batches import ArrayBatches
from fkp_helpers.training.loop import train_model
from fkp_helpers.training.models import copy_model
from fkp_helpers.training.optimizers import (
    describe_learning_rate,
    exponential_decay,
    learning_rate_of,
    make_optimizer,
    peak_learning_rate,
    step_decay,
    warmup_cosine,
)
from fkp_helpers.training import study
from fkp_helpers.training.study import train_scheduled


def test_optimizers_have_the_requested_settings():
    sgd = make_optimizer("sgd", learning_rate=0.05)
    assert learning_rate_of(sgd) == pytest.approx(0.05) and sgd.momentum == 0.9 and sgd.nesterov is True
    adam = make_optimizer("Adam")
    assert learning_rate_of(adam) == pytest.approx(1e-3)
    assert (adam.beta_1, adam.beta_2, adam.epsilon) == (0.9, 0.999, 1e-8)
    with pytest.raises(ValueError, match="sgd, adam"):
        make_optimizer("rmsprop")


def test_a_built_optimizer_applies_the_learning_rate_set():
    variable = keras.Variable(np.zeros(3, dtype=np.float32))
    sgd = make_optimizer("sgd", learning_rate=0.05)
    sgd.build([variable])
    assert learning_rate_of(sgd) == pytest.approx(0.05)
    sgd.apply_gradients([(np.ones(3, dtype=np.float32), variable)])
    # Nesterov momentum, first step from zero velocity: w -= lr * g * (1 + momentum).
    np.testing.assert_allclose(variable.numpy(), -0.05 * 1.9 * np.ones(3), rtol=1e-6)


def test_schedules_and_the_scheduler_callback_set_the_learning_rate(data, initial_model, tmp_path):
    assert step_decay(0.01, drop=0.5, epochs_per_drop=2)(5, 0.0) == pytest.approx(0.0025)
    assert exponential_decay(0.01, rate=0.1)(10, 0.0) == pytest.approx(0.01 * np.exp(-1.0))
    train, val = data
    result = train_model(copy_model(initial_model), train, val, "sgd", tmp_path, "scheduled", epochs=2,
                         batch_size=8, learning_rate=0.01, lr_schedule=step_decay(0.01, 0.5, 1), save_best=False)
    np.testing.assert_allclose(result.history["learning_rate"], [0.01, 0.005], rtol=1e-6)
    assert learning_rate_of(result.model.optimizer) == pytest.approx(0.005)


def test_warmup_cosine_rises_linearly_to_the_peak_then_decays_to_near_zero():
    schedule = warmup_cosine(0.1, total_steps=100, warmup_fraction=0.1, final_fraction=0.01)
    rates = np.array([float(schedule(step)) for step in range(101)])
    np.testing.assert_allclose(rates[[0, 5, 10]], [0.0, 0.05, 0.1], rtol=1e-5, atol=1e-9)
    assert np.all(np.diff(rates[:11]) > 0) and np.all(np.diff(rates[10:]) <= 1e-9)
    assert rates[100] == pytest.approx(0.001, rel=1e-4)
    optimizer = make_optimizer("sgd", schedule)
    assert peak_learning_rate(optimizer) == pytest.approx(0.1)
    assert describe_learning_rate(optimizer)["CosineDecay"]["warmup_target"] == pytest.approx(0.1)
    assert peak_learning_rate(make_optimizer("adam")) == 0.001


def test_a_scheduled_run_follows_its_schedule_per_step_and_stops_no_earlier(data, initial_model, tmp_path):
    train, val = data
    result = train_scheduled(copy_model(initial_model), ArrayBatches(*train, batch_size=8, shuffle=True, seed=0), val,
                             "adam", 0.01, epochs=3, seed=0, run_dir=tmp_path, name="cosine")
    schedule = warmup_cosine(0.01, 3 * 3)
    np.testing.assert_allclose(result.history["learning_rate"], [float(schedule(s)) for s in (3, 6, 9)], rtol=1e-5)
    assert result.epochs_run == 3 and result.learning_rate == pytest.approx(0.01)


def test_a_scheduled_run_that_diverges_starts_again_at_half_the_peak(data, initial_model, tmp_path, monkeypatch,
                                                                    capsys):
    train, val = data
    batches = ArrayBatches(*train, batch_size=8, shuffle=True, seed=0)
    real_train_model, peaks = study.train_model, []

    def diverge_once(model, *args, learning_rate, **kwargs):
        peaks.append(learning_rate.get_config()["warmup_target"])
        if len(peaks) == 1:
            model.set_weights([w + 1.0 for w in model.get_weights()])  # what a diverged run leaves behind
            raise FloatingPointError("diverged")
        return real_train_model(model, *args, learning_rate=learning_rate, **kwargs)

    monkeypatch.setattr(study, "train_model", diverge_once)
    model = copy_model(initial_model)
    result = train_scheduled(model, batches, val, "sgd", 0.02, epochs=1, seed=0, run_dir=tmp_path, name="halved")
    assert peaks == [0.02, 0.01] and result.learning_rate == pytest.approx(0.01)
    assert "diverged at peak rate 0.02; starting again at half of it" in capsys.readouterr().out
    straight = train_scheduled(copy_model(initial_model), batches, val, "sgd", 0.01, epochs=1, seed=0,
                               run_dir=tmp_path / "straight", name="halved")
    assert result.history["val_masked_rmse_px"].equals(straight.history["val_masked_rmse_px"]), "from the initial weights"


def test_a_run_that_keeps_diverging_stops_with_a_clear_error(data, initial_model, tmp_path):
    train, val = data
    batches = ArrayBatches(*train, batch_size=8, shuffle=True, seed=0)
    with pytest.raises(FloatingPointError, match="hopeless: training diverged"):
        train_scheduled(copy_model(initial_model), batches, val, "sgd", 1e30, epochs=1, seed=0, run_dir=tmp_path,
                        name="hopeless")
