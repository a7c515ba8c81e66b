"""Training: masked loss and metrics, optimizers, callbacks, resumable reproducible runs, and the learning-rate sweep.

Targets are ``(N, 30)`` pixels with NaN for a missing label. The loss ignores missing coordinates, so every row
counts; it is the mean squared error in normalised units ``((pred - true) / 48) ** 2``, i.e. what a network that
regresses ``(y - 48) / 48`` sees, which keeps SGD's learning rate in the usual range. Metrics are in pixels.

Reproducibility: ``train_model`` calls ``set_reproducible(seed)`` (Python/NumPy/TF seeds and TF op determinism),
shuffles array data with a generator seeded by ``(seed, epoch)``, and at the start of every epoch resets the state of
each random layer (dropout) to a value derived from ``(seed, epoch)``. So the same model weights, data, profile and
seed give the same history on the same machine, also after a run is killed and resumed from its
``BackupAndRestore`` backup. Residual nondeterminism: results may differ between machines, CPU instruction sets,
thread counts or TF/oneDNN versions (different float summation orders); an augmentation dataset is only as
repeatable as its own seeding (it is told the epoch through ``set_epoch(epoch)`` if it has that method); after a
resume, EarlyStopping/ReduceLROnPlateau/checkpoint bookkeeping is restored from a side file, but a kill between that
file and the backup being written (the same epoch end) can leave them one epoch apart.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from fkp_helpers.models import COORDINATE_SCALE, copy_model, save_model_atomically
from fkp_helpers.splits import train_val_split

ops = keras.ops

OPTIMIZER_NAMES = ("sgd", "adam")
DEFAULT_LEARNING_RATES = {"sgd": 0.01, "adam": 1e-3}
MONITOR = "val_masked_rmse_px"
"""What the best-model checkpoint and EarlyStopping watch."""
PLATEAU_MONITOR = "val_masked_mae"
"""What ReduceLROnPlateau watches."""


# ----------------------------------------------------------------------------------------------- loss and metrics
def _masked_difference(y_true, y_pred):
    """``(pred - true)`` with exact zeros (and zero gradient) where the target is NaN, and the label mask."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    labelled = ops.logical_not(ops.isnan(y_true))
    zeros = ops.zeros_like(y_pred)
    # where() on both sides: the NaN never enters an arithmetic op, and the unselected branch gets zero gradient.
    difference = ops.where(labelled, y_pred - ops.where(labelled, y_true, zeros), zeros)
    return difference, ops.cast(labelled, y_pred.dtype)


def masked_mse(y_true, y_pred, scale: float = 1.0):
    """Mean of ``((pred - true) / scale) ** 2`` over the labelled (non-NaN) coordinates of the batch; 0 if none."""
    difference, labelled = _masked_difference(y_true, y_pred)
    return ops.sum(ops.square(difference / scale)) / ops.maximum(ops.sum(labelled), 1.0)


def masked_mae(y_true, y_pred):
    """Mean absolute error in pixels over the labelled coordinates of the batch."""
    difference, labelled = _masked_difference(y_true, y_pred)
    return ops.sum(ops.abs(difference)) / ops.maximum(ops.sum(labelled), 1.0)


def masked_rmse_px(y_true, y_pred):
    """Root mean squared error in pixels over the labelled coordinates of the batch."""
    return ops.sqrt(masked_mse(y_true, y_pred))


@keras.saving.register_keras_serializable(package="fkp")
class MaskedMSE(keras.losses.Loss):
    """Keras loss: ``masked_mse(y_true, y_pred, scale)`` over the whole batch (default scale 48: normalised units)."""

    def __init__(self, scale: float = COORDINATE_SCALE, name: str = "masked_mse", reduction: str = "sum", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)
        self.scale = float(scale)

    def call(self, y_true, y_pred):
        # Per-row shares of the batch mean; the "sum" reduction adds them up to the mean over labelled coordinates.
        difference, labelled = _masked_difference(y_true, y_pred)
        row_sums = ops.sum(ops.square(difference / self.scale), axis=-1)
        return row_sums / ops.maximum(ops.sum(labelled), 1.0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}


class _MaskedSumMetric(keras.metrics.Metric):
    def __init__(self, name: str, **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def _contribution(self, difference):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        difference, labelled = _masked_difference(y_true, y_pred)
        self.total.assign_add(ops.cast(ops.sum(self._contribution(difference)), self.dtype))
        self.count.assign_add(ops.cast(ops.sum(labelled), self.dtype))

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)


@keras.saving.register_keras_serializable(package="fkp")
class MaskedMAE(_MaskedSumMetric):
    """Keras metric: mean absolute error in pixels over all labelled coordinates seen this epoch."""

    def __init__(self, name: str = "masked_mae", **kwargs):
        super().__init__(name=name, **kwargs)

    def _contribution(self, difference):
        return ops.abs(difference)

    def result(self):
        return self.total / ops.maximum(self.count, 1.0)


@keras.saving.register_keras_serializable(package="fkp")
class MaskedRMSE(_MaskedSumMetric):
    """Keras metric: root mean squared error in pixels over all labelled coordinates seen this epoch."""

    def __init__(self, name: str = "masked_rmse_px", **kwargs):
        super().__init__(name=name, **kwargs)

    def _contribution(self, difference):
        return ops.square(difference)

    def result(self):
        return ops.sqrt(self.total / ops.maximum(self.count, 1.0))


# ---------------------------------------------------------------------------------------------------- optimizers
def make_optimizer(name: str, learning_rate: float | None = None) -> keras.optimizers.Optimizer:
    """``"sgd"``: SGD(momentum 0.9, Nesterov), default LR 0.01; ``"adam"``: Adam(1e-3, 0.9, 0.999, epsilon 1e-8)."""
    key = name.lower()
    if key not in OPTIMIZER_NAMES:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZER_NAMES)}")
    learning_rate = DEFAULT_LEARNING_RATES[key] if learning_rate is None else float(learning_rate)
    if key == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True)
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8)


def compile_model(model: keras.Model, optimizer: keras.optimizers.Optimizer | str, learning_rate: float | None = None) -> keras.Model:
    """Compile with the masked loss (normalised units) and the pixel metrics ``masked_mae``, ``masked_rmse_px``."""
    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, learning_rate)
    model.compile(optimizer=optimizer, loss=MaskedMSE(), metrics=[MaskedMAE(), MaskedRMSE()], jit_compile=False)
    return model


def learning_rate_of(optimizer: keras.optimizers.Optimizer) -> float:
    """The learning rate an optimizer currently applies."""
    return float(optimizer.learning_rate)


def step_decay(initial_lr: float, drop: float = 0.5, epochs_per_drop: int = 10) -> Callable[[int, float], float]:
    """Schedule for LearningRateScheduler: ``initial_lr * drop ** floor(epoch / epochs_per_drop)``."""

    def schedule(epoch: int, lr: float | None = None) -> float:
        return float(initial_lr * drop ** math.floor(epoch / epochs_per_drop))

    return schedule


def exponential_decay(initial_lr: float, rate: float = 0.1) -> Callable[[int, float], float]:
    """Schedule for LearningRateScheduler: ``initial_lr * exp(-rate * epoch)``."""

    def schedule(epoch: int, lr: float | None = None) -> float:
        return float(initial_lr * math.exp(-rate * epoch))

    return schedule


# ---------------------------------------------------------------------------------------------- data and seeding
def set_reproducible(seed: int) -> None:
    """Seed Python, NumPy and TF (``keras.utils.set_random_seed``) and make TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def complete_rows(targets: np.ndarray) -> np.ndarray:
    """Boolean mask ``(N,)`` of rows with all coordinates labelled; takes ``(N, 30)`` or ``(N, 15, 2)``."""
    targets = np.asarray(targets)
    return ~np.isnan(targets.reshape(len(targets), -1)).any(axis=1)


class ArrayBatches(keras.utils.PyDataset):
    """Batches of in-memory arrays, reshuffled each epoch by a generator seeded with ``(seed, epoch)``."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
        if len(x) == 0:
            raise ValueError("no training rows")
        self.x, self.y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)
        self.batch_size, self.shuffle, self.seed = int(batch_size), shuffle, int(seed)
        self.set_epoch(0)

    @property
    def num_samples(self) -> int:
        return len(self.x)

    def set_epoch(self, epoch: int) -> None:
        """Use the row order of ``epoch`` (a pure function of seed and epoch, so a resumed run sees the same)."""
        n = len(self.x)
        self._order = np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle else np.arange(n)

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int):
        rows = np.sort(self._order[index * self.batch_size : (index + 1) * self.batch_size])
        return self.x[rows], self.y[rows]


def _seed_state_variables(model: keras.Model) -> list:
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


class EpochSeeds(keras.callbacks.Callback):
    """At each epoch start: random layers' seed states and the data order become functions of ``(seed, epoch)``."""

    def __init__(self, seed: int, train_data: Any = None):
        super().__init__()
        self.seed, self.train_data = int(seed), train_data

    def on_epoch_begin(self, epoch, logs=None):
        states = _seed_state_variables(self.model)
        if states:
            words = np.random.SeedSequence([self.seed, epoch]).generate_state(len(states), dtype=np.uint32)
            for variable, word in zip(states, words):
                variable.assign(np.array([word, 0], dtype=variable.dtype))
        if hasattr(self.train_data, "set_epoch"):
            self.train_data.set_epoch(epoch)


class EpochLogger(keras.callbacks.Callback):
    """Adds ``learning_rate``, ``seconds`` (whole epoch) and ``train_images_per_second`` to each epoch's logs."""

    def __init__(self, train_images: int | None):
        super().__init__()
        self.train_images = train_images

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._train_end = None

    def on_test_begin(self, logs=None):
        if getattr(self, "_start", None) is not None and self._train_end is None:
            self._train_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        train_seconds = (self._train_end or now) - self._start
        logs["learning_rate"] = learning_rate_of(self.model.optimizer)
        logs["seconds"] = now - self._start
        logs["train_images_per_second"] = self.train_images / train_seconds if self.train_images else float("nan")
        self._start = None


class ProgressPrinter(keras.callbacks.Callback):
    """One concise line every ``every`` epochs (and at the last): losses, validation RMSE in pixels, LR, timing."""

    def __init__(self, name: str, every: int = 1):
        super().__init__()
        self.name, self.every = name, max(1, int(every))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        last = epoch + 1 == self.params.get("epochs") or self.model.stop_training
        if (epoch + 1) % self.every and not last:
            return
        print(
            f"{self.name}: epoch {epoch + 1}/{self.params.get('epochs')}"
            f"  loss {logs.get('loss', float('nan')):.4g}  val_loss {logs.get('val_loss', float('nan')):.4g}"
            f"  RMSE {logs.get('masked_rmse_px', float('nan')):.3f} px  val RMSE {logs.get(MONITOR, float('nan')):.3f} px"
            f"  lr {logs.get('learning_rate', float('nan')):.3g}  {logs.get('seconds', float('nan')):.1f} s",
            flush=True,
        )


class BestModelCheckpoint(keras.callbacks.Callback):
    """ModelCheckpoint(save_best_only=True, mode="min") that writes the ``.keras`` file atomically."""

    def __init__(self, path: str | os.PathLike, monitor: str = MONITOR, best: float | None = None):
        super().__init__()
        self.path, self.monitor, self.best = Path(path), monitor, best

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None or not np.isfinite(current):
            return
        if self.best is None or current < self.best:
            self.best = float(current)
            save_model_atomically(self.model, self.path)


class MonitorStateBackup(keras.callbacks.Callback):
    """Keeps EarlyStopping / ReduceLROnPlateau / checkpoint bookkeeping across a BackupAndRestore resume."""

    FIELDS = ("wait", "best", "best_epoch", "cooldown_counter")

    def __init__(self, path: str | os.PathLike, callbacks: dict[str, keras.callbacks.Callback], resume_epoch: int | None):
        super().__init__()
        self.path, self.callbacks, self.resume_epoch = Path(path), callbacks, resume_epoch

    def on_train_begin(self, logs=None):
        if self.resume_epoch is None or not self.path.is_file():
            return
        saved = json.loads(self.path.read_text())
        if saved.get("epoch") != self.resume_epoch:
            return
        for key, callback in self.callbacks.items():
            for name, value in saved.get(key, {}).items():
                setattr(callback, name, value)

    def on_epoch_end(self, epoch, logs=None):
        state: dict[str, Any] = {"epoch": epoch + 1}
        for key, callback in self.callbacks.items():
            state[key] = {
                name: (None if getattr(callback, name) is None else float(getattr(callback, name)))
                for name in self.FIELDS
                if hasattr(callback, name)
            }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.path)


# ------------------------------------------------------------------------------------------------------ training
@dataclass
class TrainingResult:
    """What one training run produced. Epochs are counted from 1; all errors are in pixels."""

    name: str
    optimizer: str
    learning_rate: float
    history: pd.DataFrame = field(repr=False)
    best_epoch: int
    best_val_rmse_px: float
    seconds_per_epoch: float
    """Median wall time of an epoch, validation included."""
    images_per_second: float
    """Median training throughput (images through forward+backward per second), validation excluded."""
    train_images: int | None
    epochs_run: int
    model_path: Path | None
    history_path: Path
    model: keras.Model | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        """The JSON-friendly numbers of this run."""
        return {
            "name": self.name,
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "best_val_rmse_px": self.best_val_rmse_px,
            "seconds_per_epoch": self.seconds_per_epoch,
            "images_per_second": self.images_per_second,
            "train_images": self.train_images,
            "model_path": None if self.model_path is None else str(self.model_path),
            "history_path": str(self.history_path),
        }


def read_history(path: str | os.PathLike) -> pd.DataFrame:
    """A CSVLogger history as a DataFrame with ``epoch`` counted from 1 (Keras writes it from 0)."""
    history = pd.read_csv(path)
    history["epoch"] = history["epoch"] + 1
    return history.drop_duplicates("epoch", keep="last").reset_index(drop=True)


def _train_image_count(data: Any, batch_size: int | None) -> int | None:
    for attribute in ("num_samples", "n_samples"):
        if isinstance(getattr(data, attribute, None), (int, np.integer)):
            return int(getattr(data, attribute))
    size = getattr(data, "batch_size", batch_size)
    return len(data) * int(size) if size else None


def _resume_epoch(backup_dir: Path) -> int | None:
    metadata = backup_dir / "training_metadata.json"
    return int(json.loads(metadata.read_text())["epoch"]) if metadata.is_file() else None


def train_model(
    model: keras.Model,
    train_data: tuple[np.ndarray, np.ndarray] | keras.utils.PyDataset,
    val_data: tuple[np.ndarray, np.ndarray],
    optimizer_name: str,
    run_dir: str | os.PathLike,
    name: str,
    epochs: int,
    seed: int = 0,
    *,
    batch_size: int = 64,
    learning_rate: float | None = None,
    lr_schedule: Callable[[int, float], float] | None = None,
    reduce_lr_patience: int | None = 5,
    reduce_lr_factor: float = 0.5,
    early_stopping_patience: int | None = 10,
    progress_every: int = 1,
    save_best: bool = True,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    validation_batch_size: int = 128,
) -> TrainingResult:
    """Train ``model`` (compiled here with the masked loss), resumable, writing ``run_dir/models/<name>.keras``
    (the best epoch by validation RMSE, saved atomically) and ``run_dir/histories/<name>.csv``.

    ``train_data`` is ``(x, y)`` arrays (x float ``(N, 96, 96, 1)`` in [0, 1], y ``(N, 30)`` pixels, NaN missing),
    shuffled by ``(seed, epoch)``, or a PyDataset that batches and shuffles itself (given the epoch through
    ``set_epoch`` if it has it). ``lr_schedule`` (e.g. ``step_decay``) replaces ReduceLROnPlateau. A run killed
    mid-way resumes from its last finished epoch on the next call with the same arguments
    (``run_dir/backups/<name>``). On return the model holds the best epoch's weights (if ``save_best``).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    set_reproducible(seed)
    run_dir = Path(run_dir)
    model_path = run_dir / "models" / f"{name}.keras"
    history_path = run_dir / "histories" / f"{name}.csv"
    backup_dir = run_dir / "backups" / name
    history_path.parent.mkdir(parents=True, exist_ok=True)

    if isinstance(train_data, (tuple, list)):
        train_data = ArrayBatches(*train_data, batch_size=batch_size, shuffle=True, seed=seed)
    x_val, y_val = val_data
    initial_lr = DEFAULT_LEARNING_RATES.get(optimizer_name.lower()) if learning_rate is None else float(learning_rate)
    optimizer = make_optimizer(optimizer_name, learning_rate)
    compile_model(model, optimizer)

    resume_epoch = _resume_epoch(backup_dir)
    best_so_far = None
    if resume_epoch is not None and history_path.is_file():
        previous = pd.read_csv(history_path)
        previous = previous[previous["epoch"] < resume_epoch]
        previous.to_csv(history_path, index=False)
        if MONITOR in previous and len(previous):
            best_so_far = float(previous[MONITOR].min())
    elif resume_epoch is None:
        history_path.unlink(missing_ok=True)

    callbacks: list[keras.callbacks.Callback] = [EpochSeeds(seed, train_data)]
    if lr_schedule is not None:
        callbacks.append(keras.callbacks.LearningRateScheduler(lr_schedule))
    callbacks.append(EpochLogger(_train_image_count(train_data, batch_size)))
    monitored: dict[str, keras.callbacks.Callback] = {}
    if reduce_lr_patience is not None and lr_schedule is None:
        monitored["reduce_lr"] = keras.callbacks.ReduceLROnPlateau(
            monitor=PLATEAU_MONITOR, factor=reduce_lr_factor, patience=reduce_lr_patience, mode="min"
        )
    if early_stopping_patience is not None:
        monitored["early_stopping"] = keras.callbacks.EarlyStopping(
            monitor=MONITOR, patience=early_stopping_patience, mode="min"
        )
    if save_best:
        monitored["checkpoint"] = BestModelCheckpoint(model_path, best=best_so_far)
    callbacks += list(monitored.values())
    callbacks += [
        MonitorStateBackup(backup_dir / "monitor_state.json", monitored, resume_epoch),
        keras.callbacks.CSVLogger(str(history_path), append=resume_epoch is not None),
        ProgressPrinter(name, progress_every),
        *extra_callbacks,
        keras.callbacks.BackupAndRestore(str(backup_dir), save_freq="epoch", delete_checkpoint=True),
    ]

    tf_logger = tf.get_logger()
    previous_level = tf_logger.level
    tf_logger.setLevel("ERROR")  # each run traces fresh functions; TF's "retracing" warning is expected here
    try:
        model.fit(
            train_data,
            validation_data=(x_val, y_val),
            validation_batch_size=validation_batch_size,
            epochs=epochs,
            shuffle=False,
            callbacks=callbacks,
            verbose=0,
        )
    finally:
        tf_logger.setLevel(previous_level)
    model._initial_epoch = None  # set by BackupAndRestore on a resume; a later fit must start afresh
    if backup_dir.parent.is_dir() and not any(backup_dir.parent.iterdir()):
        backup_dir.parent.rmdir()

    history = read_history(history_path)
    best_row = history.loc[history[MONITOR].idxmin()]
    if save_best and model_path.is_file():
        model.load_weights(model_path)
    return TrainingResult(
        name=name,
        optimizer=optimizer_name.lower(),
        learning_rate=initial_lr,
        history=history,
        best_epoch=int(best_row["epoch"]),
        best_val_rmse_px=float(best_row[MONITOR]),
        seconds_per_epoch=float(history["seconds"].median()),
        images_per_second=float(history["train_images_per_second"].median()),
        train_images=_train_image_count(train_data, batch_size),
        epochs_run=len(history),
        model_path=model_path if save_best and model_path.is_file() else None,
        history_path=history_path,
        model=model,
    )


def lr_sweep(
    model: keras.Model,
    train_data: tuple[np.ndarray, np.ndarray] | keras.utils.PyDataset,
    val_data: tuple[np.ndarray, np.ndarray],
    learning_rates: Sequence[float],
    epochs: int,
    run_dir: str | os.PathLike,
    seed: int = 0,
    *,
    batch_size: int = 64,
    name_prefix: str = "sweep_adam",
    progress_every: int = 1,
    reuse: Sequence[TrainingResult] = (),
) -> pd.DataFrame:
    """Train a copy of ``model`` (same initial weights) with Adam at each learning rate; one row per rate.

    Histories go to ``run_dir/histories/<name_prefix>_lr<rate>.csv``; no model files are kept. A rate already
    trained by an Adam run in ``reuse`` (same initial weights, data, seed and batch size, at least ``epochs``
    epochs) is not trained again: its first ``epochs`` epochs are exactly what the sweep would compute, since
    training is deterministic per (seed, epoch). The ``source`` column names where each row comes from.
    """
    rows = []
    for rate in learning_rates:
        done = [r for r in reuse if r.optimizer == "adam" and math.isclose(r.learning_rate, rate) and r.epochs_run >= epochs]
        if done:
            history, source = done[0].history.iloc[:epochs], done[0].name
            seconds = float(history["seconds"].median())
        else:
            result = train_model(
                copy_model(model), train_data, val_data, "adam", run_dir, f"{name_prefix}_lr{rate:g}", epochs, seed,
                batch_size=batch_size, learning_rate=rate, save_best=False, progress_every=progress_every,
            )
            history, source, seconds = result.history, result.name, result.seconds_per_epoch
        best = history.loc[history[MONITOR].idxmin()]
        rows.append({
            "learning_rate": rate,
            "best_epoch": int(best["epoch"]),
            "best_val_rmse_px": float(best[MONITOR]),
            "final_train_rmse_px": float(history["masked_rmse_px"].iloc[-1]),
            "final_val_rmse_px": float(history[MONITOR].iloc[-1]),
            "seconds_per_epoch": seconds,
            "source": source,
        })
    return pd.DataFrame(rows)


def training_split(
    images: np.ndarray, val_fraction: float, seed: int, max_train_images: int | None = None
) -> dict[str, np.ndarray]:
    """Split by image (duplicates on one side, ``splits.train_val_split``), then cap the training rows.

    Returns sorted ``train_index`` (rows used for fitting), ``val_index`` (never capped) and ``train_pool_index``
    (all training-side rows; the cap takes a random subset of it, seeded by ``seed``).
    """
    pool, val = train_val_split(images, val_fraction, seed)
    train = pool
    if max_train_images is not None and len(pool) > max_train_images:
        train = np.sort(np.random.default_rng([seed, 1]).choice(pool, size=max_train_images, replace=False))
    return {"train_index": train, "val_index": val, "train_pool_index": pool}


def plot_training_curves(
    histories: dict[str, pd.DataFrame],
    metrics: Sequence[tuple[str, str]] = (("loss", "loss (normalised units)"), ("masked_mae", "MAE (px)"),
                                          ("masked_rmse_px", "RMSE (px)")),
):
    """One panel per metric, log scale: each run's training (solid) and validation (dashed) curve on the same axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    plain = FuncFormatter(lambda value, _: f"{value:.3g}")

    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
    for ax, (column, label) in zip(axes[0], metrics):
        for i, (name, history) in enumerate(histories.items()):
            colour = f"C{i}"
            ax.plot(history["epoch"], history[column], color=colour, marker=".", label=f"{name} train")
            ax.plot(history["epoch"], history[f"val_{column}"], color=colour, marker=".", linestyle="--",
                    label=f"{name} validation")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="minor", labelsize=7)
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
