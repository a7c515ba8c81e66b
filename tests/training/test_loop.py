"""Tests for fkp_helpers.training.loop: determinism, resume, checkpoints, results files."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from fkp_helpers.augment import AugmentedSequence
from fkp_helpers.training.loop import read_history, train_model
from fkp_helpers.training.losses import MONITOR, MaskedMSE
from fkp_helpers.training.model_files import load_model
from fkp_helpers.training.models import build_nouri_net, build_vgg, copy_model
from fkp_helpers.training.optimizers import learning_rate_of
from fkp_helpers.training.reporting import results_table, write_results_json
from fkp_helpers.training.reproducibility import set_reproducible


def weights_equal(a: keras.Model, b: keras.Model) -> bool:
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


class FinalLearningRate(keras.callbacks.Callback):
    """Records the optimizer's learning rate when training ends (before ``train_model`` loads the best epoch back)."""

    def on_train_end(self, logs=None):
        self.value = learning_rate_of(self.model.optimizer)


class KillAt(keras.callbacks.Callback):
    """Interrupts training as a Ctrl-C would, at the start of (0-based) ``epoch``."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt("killed")


def test_same_seed_same_history_and_weights(data, initial_model, tmp_path, metric_columns):
    train, val = data
    runs = [train_model(copy_model(initial_model), train, val, "adam", tmp_path / f"run{i}", "tiny", epochs=2,
                        seed=0, batch_size=8) for i in range(2)]
    assert runs[0].history[metric_columns].equals(runs[1].history[metric_columns])
    assert weights_equal(runs[0].model, runs[1].model)


def test_a_killed_run_resumes_to_the_same_result(data, initial_model, tmp_path, metric_columns):
    train, val = data
    settings = dict(epochs=4, seed=0, batch_size=8, save_best=False, validate_at_steps=[2, 5, 6, 8, 11])
    straight = train_model(copy_model(initial_model), train, val, "adam", tmp_path / "straight", "tiny", **settings)

    with pytest.raises(KeyboardInterrupt):
        train_model(copy_model(initial_model), train, val, "adam", tmp_path / "killed", "tiny",
                    extra_callbacks=[KillAt(2)], **settings)
    backup = tmp_path / "killed" / "backups" / "tiny"
    assert json.loads((backup / "state.json").read_text())["epoch"] == 2
    assert sorted(p.name for p in backup.iterdir()) == ["epoch-2.weights.h5", "state.json"]
    (backup / ".tmp-epoch-3.weights.h5").write_bytes(b"half a file: killed while saving epoch 3")
    resumed = train_model(copy_model(initial_model), train, val, "adam", tmp_path / "killed", "tiny", **settings)
    assert list(resumed.history["epoch"]) == [1, 2, 3, 4]
    assert resumed.history[metric_columns].equals(straight.history[metric_columns])
    assert weights_equal(resumed.model, straight.model)
    assert not backup.exists()
    assert list(straight.late_validation["step"]) == [2, 5, 8, 11], "step 6 ends epoch 2: its own validation covers it"
    assert resumed.late_validation.equals(straight.late_validation)


def test_validation_inside_an_epoch_is_the_rmse_of_the_weights_at_that_step(data, initial_model, tmp_path):
    train, (x_val, y_val) = data
    seen = []

    class Measure(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                error = self.model.predict(x_val, verbose=0) - y_val
                seen.append(float(np.sqrt(np.nanmean(error ** 2))))

    result = train_model(copy_model(initial_model), train, (x_val, y_val), "adam", tmp_path, "tiny", epochs=2,
                         batch_size=8, validate_at_steps=[2, 5], extra_callbacks=[Measure()])
    late = result.late_validation
    assert list(late["step"]) == [2, 5] and list(late["epoch"]) == pytest.approx([2 / 3, 5 / 3])
    assert list(late["val_masked_rmse_px"]) == pytest.approx(seen, rel=1e-5)
    assert (result.history["late_validation_seconds"] > 0).all()


def test_best_model_file_round_trips_and_the_results_are_written(data, initial_model, tmp_path):
    train, val = data
    result = train_model(copy_model(initial_model), train, val, "adam", tmp_path, "tiny", epochs=3, batch_size=8)
    assert result.model_path == tmp_path / "models" / "tiny.keras"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["tiny.keras"]
    assert result.history_path.is_file() and len(result.history) == result.epochs_run == 3
    assert result.best_val_rmse_px == pytest.approx(result.history["val_masked_rmse_px"].min())
    assert result.seconds_per_epoch > 0 and result.images_per_second > 0 and result.train_images == len(train[0])
    validation, epoch = result.history["validation_seconds"], result.history["seconds"]
    assert ((validation > 0) & (validation < epoch)).all(), "validation is timed alone, inside its epoch"
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


def test_a_finished_run_is_read_back_only_when_asked_and_with_the_same_settings(data, initial_model, tmp_path,
                                                                                 capsys, metric_columns):
    train, val = data
    settings = dict(seed=0, batch_size=8)
    first = train_model(copy_model(initial_model), train, val, "adam", tmp_path, "tiny", 2, **settings)
    again = train_model(copy_model(initial_model), train, val, "adam", tmp_path, "tiny", 2, reuse_finished=True,
                        **settings)
    assert "read back from its files" in capsys.readouterr().out
    assert again.history[metric_columns].equals(first.history[metric_columns])
    assert again.best_val_rmse_px == first.best_val_rmse_px and weights_equal(again.model, first.model)
    longer = train_model(copy_model(initial_model), train, val, "adam", tmp_path, "tiny", 3, reuse_finished=True,
                         **settings)
    assert "read back" not in capsys.readouterr().out and longer.epochs_run == 3


def test_a_diverging_run_stops_at_the_first_nan_and_says_so(data, initial_model, tmp_path):
    train, val = data
    with pytest.raises(FloatingPointError, match="tiny: training diverged .* peak learning rate of 1e\\+06 with sgd"):
        train_model(copy_model(initial_model), train, val, "sgd", tmp_path, "tiny", epochs=3, batch_size=8,
                    learning_rate=1e6)
    assert len(read_history(tmp_path / "histories" / "tiny.csv")) == 1, "TerminateOnNaN ends the run in epoch 1"


def test_a_run_that_diverges_after_finite_epochs_is_diverged_too(data, initial_model, tmp_path):
    train, val = data
    blow_up = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epoch == 1 and blow_up.model.optimizer.learning_rate.assign(1e6))
    with pytest.raises(FloatingPointError, match="tiny: training diverged"):
        train_model(copy_model(initial_model), train, val, "sgd", tmp_path, "tiny", epochs=3, batch_size=8,
                    learning_rate=1e-3, extra_callbacks=[blow_up])
    history = read_history(tmp_path / "histories" / "tiny.csv")
    assert len(history) == 2 and np.isfinite(history[MONITOR].iloc[0]), "a finite first epoch, then NaN"


def tiny_cnn() -> keras.Model:
    """A one-conv, 8-unit CNN with dropout: seconds per run, random layers included."""
    set_reproducible(0)
    return build_nouri_net(filters=(4,), kernel_sizes=(3,), dense_units=(8,), dropout=0.1, name="tiny")


def plateau_data() -> tuple[AugmentedSequence, tuple[np.ndarray, np.ndarray]]:
    """16 noise images whose keypoints all sit low in the frame (flip-invariant x) and a validation set labelled high
    in it: once the model has learnt the training mean, every epoch moves it away from the validation labels."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (16, 96, 96), dtype=np.uint8)
    keypoints = np.stack(np.broadcast_arrays(np.float32(47.5), np.full((16, 15), 70.0, np.float32)), axis=-1)
    x_val = rng.random((4, 96, 96, 1), dtype=np.float32)
    y_val = np.tile(np.array([47.5, 30.0], np.float32), (4, 15))
    return AugmentedSequence(images, keypoints, batch_size=8, seed=0), (x_val, y_val)


def test_a_run_killed_on_a_plateau_resumes_its_callbacks_state(tmp_path, metric_columns):
    initial = tiny_cnn()
    settings = dict(epochs=6, seed=0, learning_rate=1e-3, reduce_lr_patience=1, early_stopping_patience=2,
                    save_best=True)

    def run(folder: str, *extra: keras.callbacks.Callback):
        train, val = plateau_data()
        return train_model(copy_model(initial), train, val, "adam", tmp_path / folder, "tiny", extra_callbacks=extra,
                           **settings)

    straight_lr, resumed_lr = FinalLearningRate(), FinalLearningRate()
    straight = run("straight", straight_lr)
    stop, lr = straight.epochs_run, straight.history["learning_rate"].to_numpy()
    assert straight.best_epoch <= stop - 2 and stop < settings["epochs"], "early stopping ended the run on a plateau"
    assert lr[stop - 1] < lr[0], "the plateau reduced the learning rate before the last epoch"

    with pytest.raises(KeyboardInterrupt):  # after the reduction, with EarlyStopping one epoch short of its patience
        run("killed", KillAt(stop - 1))
    state = json.loads((tmp_path / "killed" / "backups" / "tiny" / "state.json").read_text())["monitored"]
    assert state["early_stopping"]["wait"] >= 1 and state["checkpoint"] == {"best": straight.best_val_rmse_px}
    resumed = run("killed", resumed_lr)
    assert resumed.history[metric_columns].equals(straight.history[metric_columns])
    assert resumed.epochs_run == stop and resumed.best_epoch == straight.best_epoch
    assert weights_equal(resumed.model, straight.model), "both hold their best epoch's weights"
    assert weights_equal(load_model(resumed.model_path), load_model(straight.model_path))
    assert resumed_lr.value == straight_lr.value < lr[stop - 1]


def test_a_backup_whose_weights_are_missing_is_refused_by_name(tmp_path):
    initial = tiny_cnn()
    train, val = plateau_data()
    settings = dict(epochs=2, batch_size=8, save_best=False)
    with pytest.raises(KeyboardInterrupt):
        train_model(copy_model(initial), train, val, "adam", tmp_path, "tiny", extra_callbacks=[KillAt(1)], **settings)
    (tmp_path / "backups" / "tiny" / "epoch-1.weights.h5").unlink()
    with pytest.raises(FileNotFoundError, match=r"state\.json names epoch-1\.weights\.h5, which is missing; delete "
                                                r".*backups/tiny to train this model from the start"):
        train_model(copy_model(initial), train, val, "adam", tmp_path, "tiny", **settings)
