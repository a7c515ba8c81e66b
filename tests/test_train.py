"""Tests for fkp_helpers.train: masked loss and metrics, optimizers, determinism, resume, checkpoints, the sweep."""
from __future__ import annotations

import json

import keras
import matplotlib
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

matplotlib.use("Agg")

from fkp_helpers.models import build_vgg, copy_model, load_model
from fkp_helpers.train import (
    ArrayBatches,
    MaskedMAE,
    MaskedMSE,
    MaskedRMSE,
    complete_rows,
    exponential_decay,
    learning_rate_of,
    lr_sweep,
    make_optimizer,
    plot_training_curves,
    masked_mae,
    masked_mse,
    masked_rmse_px,
    results_table,
    set_reproducible,
    step_decay,
    train_model,
    training_split,
    write_results_json,
)


N_IMAGES, N_TRAIN = 32, 24


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.random((N_IMAGES, 96, 96, 1), dtype=np.float32)
    y = (rng.random((N_IMAGES, 30)) * 60 + 18).astype(np.float32)
    y[rng.random(y.shape) < 0.3] = np.nan
    return (x[:N_TRAIN], y[:N_TRAIN]), (x[N_TRAIN:], y[N_TRAIN:])


@pytest.fixture(scope="module")
def initial_model():
    """A tiny VGG (with dropout, so random layers are exercised), built once: every run starts from its weights."""
    set_reproducible(0)
    return build_vgg(width_multiplier=0.125, dense_units=(16,), name="tiny")


def weights_equal(a: keras.Model, b: keras.Model) -> bool:
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


METRIC_COLUMNS = ["epoch", "loss", "masked_mae", "masked_rmse_px", "val_loss", "val_masked_mae", "val_masked_rmse_px",
                  "learning_rate"]


# ------------------------------------------------------------------------------------------------ loss and metrics
def test_masked_mse_equals_plain_mse_when_nothing_is_missing():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.random((5, 30)).astype(np.float32) * 96, rng.random((5, 30)).astype(np.float32) * 96
    plain = float(keras.losses.MeanSquaredError()(y_true, y_pred))
    assert float(masked_mse(y_true, y_pred)) == pytest.approx(plain, rel=1e-6)
    assert float(MaskedMSE(scale=1.0)(y_true, y_pred)) == pytest.approx(plain, rel=1e-6)
    assert float(MaskedMSE()(y_true, y_pred)) == pytest.approx(plain / 48**2, rel=1e-6)
    assert float(masked_rmse_px(y_true, y_pred)) == pytest.approx(np.sqrt(plain), rel=1e-6)
    assert float(masked_mae(y_true, y_pred)) == pytest.approx(np.abs(y_true - y_pred).mean(), rel=1e-6)


def test_missing_targets_get_exactly_zero_gradient_and_never_leak_nan():
    y_true = np.array([[10.0, np.nan, 30.0], [np.nan, np.nan, 5.0]], dtype=np.float32)
    y_pred = tf.Variable([[11.0, 50.0, 28.0], [7.0, 8.0, 9.0]])
    with tf.GradientTape() as tape:
        loss = MaskedMSE(scale=1.0)(y_true, y_pred)
    gradient = tape.gradient(loss, y_pred).numpy()
    assert float(loss) == pytest.approx((1 + 4 + 16) / 3)
    assert np.all(gradient[np.isnan(y_true)] == 0.0)
    np.testing.assert_allclose(gradient[~np.isnan(y_true)], 2 * np.array([1.0, -2.0, 4.0]) / 3, rtol=1e-6)
    everything_missing = np.full((2, 3), np.nan, dtype=np.float32)
    with tf.GradientTape() as tape:
        loss = MaskedMSE()(everything_missing, y_pred)
    assert float(loss) == 0.0 and np.all(tape.gradient(loss, y_pred).numpy() == 0.0)


def test_loss_is_the_mean_over_labelled_coordinates_of_the_whole_batch():
    y_true = np.array([[0.0, np.nan, np.nan], [0.0, 0.0, 0.0]], dtype=np.float32)
    y_pred = np.array([[4.0, 0.0, 0.0], [1.0, 1.0, 1.0]], dtype=np.float32)
    assert float(MaskedMSE(scale=1.0)(y_true, y_pred)) == pytest.approx((16 + 3) / 4)


def test_metrics_accumulate_over_batches_in_pixels():
    rmse, mae = MaskedRMSE(), MaskedMAE()
    batches = [(np.array([[0.0, np.nan]]), np.array([[3.0, 9.0]])), (np.array([[0.0, 0.0]]), np.array([[4.0, 0.0]]))]
    for y_true, y_pred in batches:
        rmse.update_state(y_true, y_pred)
        mae.update_state(y_true, y_pred)
    assert float(rmse.result()) == pytest.approx(np.sqrt((9 + 16 + 0) / 3))
    assert float(mae.result()) == pytest.approx(7 / 3)
    assert rmse.name == "masked_rmse_px" and mae.name == "masked_mae"


# ------------------------------------------------------------------------------------------------------ optimizers
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


# ----------------------------------------------------------------------------------------------- data and seeding
def test_complete_rows_and_array_batches():
    y = np.zeros((5, 15, 2))
    y[1, 3, 0] = np.nan
    np.testing.assert_array_equal(complete_rows(y), [True, False, True, True, True])
    batches = ArrayBatches(np.arange(10)[:, None], np.arange(10)[:, None], batch_size=4, seed=3)
    assert len(batches) == 3 and batches.num_samples == 10

    def epoch_rows(epoch):
        batches.set_epoch(epoch)
        return np.concatenate([batches[i][0][:, 0] for i in range(len(batches))])

    assert sorted(epoch_rows(0)) == list(range(10))
    np.testing.assert_array_equal(epoch_rows(1), epoch_rows(1))
    assert not np.array_equal(epoch_rows(0), epoch_rows(1))


# ---------------------------------------------------------------------------------------- training runs and files
def test_same_seed_same_history_and_weights(data, initial_model, tmp_path):
    train, val = data
    runs = [train_model(copy_model(initial_model), train, val, "adam", tmp_path / f"run{i}", "tiny", epochs=2,
                        seed=0, batch_size=8) for i in range(2)]
    assert runs[0].history[METRIC_COLUMNS].equals(runs[1].history[METRIC_COLUMNS])
    assert weights_equal(runs[0].model, runs[1].model)


def test_a_killed_run_resumes_to_the_same_result(data, initial_model, tmp_path):
    train, val = data
    settings = dict(epochs=4, seed=0, batch_size=8, save_best=False)
    straight = train_model(copy_model(initial_model), train, val, "adam", tmp_path / "straight", "tiny", **settings)

    class Kill(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        train_model(copy_model(initial_model), train, val, "adam", tmp_path / "killed", "tiny",
                    extra_callbacks=[Kill()], **settings)
    backup = tmp_path / "killed" / "backups" / "tiny"
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 2
    resumed = train_model(copy_model(initial_model), train, val, "adam", tmp_path / "killed", "tiny", **settings)
    assert list(resumed.history["epoch"]) == [1, 2, 3, 4]
    assert resumed.history[METRIC_COLUMNS].equals(straight.history[METRIC_COLUMNS])
    assert weights_equal(resumed.model, straight.model)
    assert not backup.exists()


def test_best_model_file_round_trips_and_the_results_are_written(data, initial_model, tmp_path):
    train, val = data
    result = train_model(copy_model(initial_model), train, val, "adam", tmp_path, "tiny", epochs=3, batch_size=8)
    assert result.model_path == tmp_path / "models" / "tiny.keras"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["tiny.keras"]
    assert result.history_path.is_file() and len(result.history) == result.epochs_run == 3
    assert result.best_val_rmse_px == pytest.approx(result.history["val_masked_rmse_px"].min())
    assert result.seconds_per_epoch > 0 and result.images_per_second > 0 and result.train_images == N_TRAIN
    loaded = load_model(result.model_path)
    x_val = val[0]
    np.testing.assert_array_equal(loaded.predict(x_val, verbose=0), result.model.predict(x_val, verbose=0))
    assert isinstance(loaded.loss, MaskedMSE)
    table = results_table([result], extra_rows={"floor": {"best_val_rmse_px": 3.5}})
    assert table.loc["tiny", "best_epoch"] == result.best_epoch and table.loc["floor", "best_val_rmse_px"] == 3.5
    assert str(table["best_epoch"].dtype) == "Int64"
    saved = json.loads(write_results_json([result], tmp_path / "training_results.json", profile="test").read_text())
    assert saved["profile"] == "test" and saved["runs"]["tiny"]["best_val_rmse_px"] == result.best_val_rmse_px


def test_a_mixed_precision_model_trains_with_the_masked_loss(data, tmp_path):
    train, val = data
    set_reproducible(0)
    model = build_vgg(width_multiplier=0.125, dense_units=(16,), mixed_precision=True, name="tiny_bf16")
    result = train_model(model, train, val, "adam", tmp_path, "tiny_bf16", epochs=1, batch_size=8, save_best=False)
    assert np.isfinite(result.history[["loss", "val_masked_rmse_px"]].to_numpy()).all()
    assert result.model.predict(val[0], verbose=0).dtype == np.float32


def test_lr_sweep_returns_one_row_per_learning_rate_and_reuses_identical_runs(data, initial_model, tmp_path):
    train, val = data
    table = lr_sweep(initial_model, train, val, [1e-3, 2e-3], epochs=1, run_dir=tmp_path, batch_size=8)
    assert list(table["learning_rate"]) == [1e-3, 2e-3]
    assert list(table["source"]) == ["sweep_adam_lr0.001", "sweep_adam_lr0.002"]
    assert (tmp_path / "histories" / "sweep_adam_lr0.002.csv").is_file()
    assert not (tmp_path / "models").exists()
    longer = train_model(copy_model(initial_model), train, val, "adam", tmp_path, "adam", epochs=2, batch_size=8,
                         save_best=False)
    reused = lr_sweep(initial_model, train, val, [1e-3], epochs=1, run_dir=tmp_path, batch_size=8, reuse=[longer])
    assert reused.loc[0, "source"] == "adam"
    columns = ["best_epoch", "best_val_rmse_px", "final_train_rmse_px", "final_val_rmse_px"]
    assert reused[columns].equals(table[columns].iloc[:1])


def test_training_split_caps_training_rows_only():
    images = np.random.default_rng(0).integers(0, 255, (50, 96, 96), dtype=np.uint8)
    images[1] = images[0]
    split = training_split(images, val_fraction=0.2, seed=0, max_train_images=20)
    train, val, pool = split["train_index"], split["val_index"], split["train_pool_index"]
    assert len(train) == 20 and set(train) <= set(pool) and not set(pool) & set(val)
    assert len(pool) + len(val) == 50 and np.all(np.diff(train) > 0)
    assert ({0, 1} <= set(pool)) or ({0, 1} <= set(val))
    np.testing.assert_array_equal(training_split(images, 0.2, 0, 20)["train_index"], train)
    assert len(training_split(images, 0.2, 0, None)["train_index"]) == len(pool)


def test_plot_training_curves_draws_train_and_validation_per_run():
    history = pd.DataFrame({"epoch": [1, 2], **{c: [1.0, 0.5] for c in METRIC_COLUMNS[1:7]}})
    fig = plot_training_curves({"sgd": history, "adam": history})
    assert len(fig.axes) == 3 and all(len(ax.lines) == 4 for ax in fig.axes)
    assert fig.axes[2].get_yscale() == "log"
