"""The training loop: one resumable, reproducible run of a model with the masked loss.

Targets are ``(N, 30)`` pixels with NaN for a missing label (``fkp_helpers.training.losses``).

Reproducibility: ``train_model`` calls ``set_reproducible(seed)`` (Python/NumPy/TF seeds and TF op determinism),
shuffles array data with a generator seeded by ``(seed, epoch)``, and at the start of every epoch resets the state of
each random layer (dropout) to a value derived from ``(seed, epoch)``. So the same model weights, data, profile and
seed give the same history on the same machine, also after a run is killed and resumed from its
``EpochBackup``. Residual nondeterminism: results may differ between machines, CPU instruction sets,
thread counts or TF/oneDNN versions (different float summation orders); an augmentation dataset is only as
repeatable as its own seeding (it is told the epoch through ``set_epoch(epoch)`` if it has that method).
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import keras
import numpy as np
import pandas as pd

from fkp_helpers.data.kaggle_io import write_atomically
from fkp_helpers.progress import RESUME_ENV
from fkp_helpers.training.batches import ArrayBatches, prefetched
from fkp_helpers.training.callbacks import (
    BestModelCheckpoint,
    EpochBackup,
    EpochLogger,
    LateValidation,
    ProgressPrinter,
)
from fkp_helpers.training.losses import MONITOR, PLATEAU_MONITOR, MaskedMAE, MaskedMSE, MaskedRMSE
from fkp_helpers.training.models import output_scale
from fkp_helpers.training.optimizers import (
    LearningRate,
    describe_learning_rate,
    learning_rate_schedule,
    make_optimizer,
    peak_learning_rate,
)
from fkp_helpers.training.reproducibility import EpochSeeds, set_reproducible


def compile_model(model: keras.Model, optimizer: keras.optimizers.Optimizer | str,
                  learning_rate: LearningRate | None = None) -> keras.Model:
    """Compile with the masked loss (in the units the model regresses) and the pixel metrics ``masked_mae``,
    ``masked_rmse_px``. Keras decides whether to compile the step with XLA ("auto": off on a CPU, on for JAX)."""
    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, learning_rate)
    model.compile(optimizer=optimizer, loss=MaskedMSE(output_scale(model)),
                  metrics=[MaskedMAE(), MaskedRMSE()], jit_compile="auto")
    return model


@dataclass
class TrainingResult:
    """What one training run produced. Epochs are counted from 1; all errors are in pixels."""

    name: str
    optimizer: str
    learning_rate: float
    """The initial rate, or a schedule's peak."""
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
    late_validation: pd.DataFrame | None = field(default=None, repr=False)
    """Validation RMSE after the steps inside epochs that ``validate_at_steps`` asked for (``LateValidation``)."""

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
    state = EpochBackup.read_state(backup_dir)
    return None if state is None else int(state["epoch"])


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
    learning_rate: LearningRate | None = None,
    lr_schedule: Callable[[int, float], float] | None = None,
    reduce_lr_patience: int | None = 5,
    reduce_lr_factor: float = 0.5,
    early_stopping_patience: int | None = 10,
    progress_every: int = 1,
    save_best: bool = True,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    validation_batch_size: int = 128,
    validate_at_steps: Sequence[int] = (),
    reuse_finished: bool | None = None,
) -> TrainingResult:
    """Train ``model`` (compiled here with the masked loss), resumable, writing ``run_dir/models/<name>.keras``
    (the best epoch by validation RMSE, saved atomically) and ``run_dir/histories/<name>.csv``.

    ``train_data`` is ``(x, y)`` arrays (x float ``(N, 96, 96, 1)`` in [0, 1], y ``(N, 30)`` pixels, NaN missing),
    shuffled by ``(seed, epoch)``, or a PyDataset that batches and shuffles itself (given the epoch through
    ``set_epoch`` if it has it). ``lr_schedule`` (e.g. ``step_decay``) replaces ReduceLROnPlateau. A run killed
    mid-way resumes from its last finished epoch on the next call with the same arguments
    (``run_dir/backups/<name>``). On return the model holds the best epoch's weights (if ``save_best``).

    A run that already finished in ``run_dir`` with the same settings (``histories/<name>.done.json``) is not
    trained again when ``reuse_finished`` is true (default: when the runner resumes an interrupted series, which
    sets ``FKP_RESUME=1``); its history and best weights are read back from its files.

    ``validate_at_steps``: training steps (counted from 1 over the whole run) after which the validation RMSE is also
    measured, mid-epoch, into ``run_dir/histories/<name>.late.csv`` (``LateValidation``; the result's
    ``late_validation``).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    set_reproducible(seed)
    run_dir = Path(run_dir)
    model_path = run_dir / "models" / f"{name}.keras"
    history_path = run_dir / "histories" / f"{name}.csv"
    late_path = _late_path(history_path)
    backup_dir = run_dir / "backups" / name
    history_path.parent.mkdir(parents=True, exist_ok=True)

    if isinstance(train_data, (tuple, list)):
        train_data = ArrayBatches(*train_data, batch_size=batch_size, shuffle=True, seed=seed)
    x_val, y_val = val_data
    optimizer = make_optimizer(optimizer_name, learning_rate)
    initial_lr = peak_learning_rate(optimizer)
    compile_model(model, optimizer)

    settings = _run_settings(model, optimizer_name, describe_learning_rate(optimizer), epochs, seed, batch_size,
                             train_data, save_best, validate_at_steps)
    if reuse_finished is None:
        reuse_finished = os.environ.get(RESUME_ENV) == "1"
    resume_epoch = _resume_epoch(backup_dir)
    if reuse_finished and resume_epoch is None and _finished_settings(history_path) == settings:
        print(f"{name}: finished earlier in this run folder with the same settings; read back from its files", flush=True)
        return _result(model, name, optimizer_name, initial_lr, history_path, model_path, train_data, batch_size,
                       save_best)
    best_so_far = None
    if resume_epoch is not None and history_path.is_file():
        previous = _keep_finished_epochs(history_path, resume_epoch)
        if MONITOR in previous and len(previous):
            best_so_far = float(previous[MONITOR].min())
        if late_path.is_file():
            _keep_finished_epochs(late_path, resume_epoch)
    elif resume_epoch is None:
        history_path.unlink(missing_ok=True)
        late_path.unlink(missing_ok=True)
    _done_path(history_path).unlink(missing_ok=True)

    callbacks: list[keras.callbacks.Callback] = [EpochSeeds(seed, train_data)]
    if lr_schedule is not None:
        callbacks.append(keras.callbacks.LearningRateScheduler(lr_schedule))
    if validate_at_steps:
        callbacks.append(LateValidation(late_path, x_val, y_val, validate_at_steps, validation_batch_size))
    callbacks.append(EpochLogger(_train_image_count(train_data, batch_size)))
    monitored: dict[str, keras.callbacks.Callback] = {}
    scheduled = lr_schedule is not None or learning_rate_schedule(optimizer) is not None
    if reduce_lr_patience is not None and not scheduled:
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
        keras.callbacks.CSVLogger(str(history_path), append=resume_epoch is not None),
        ProgressPrinter(name, progress_every),
        keras.callbacks.TerminateOnNaN(),
        *extra_callbacks,
        EpochBackup(backup_dir, monitored),
    ]

    tf_logger = logging.getLogger("tensorflow")  # tf.get_logger(), on any backend
    previous_level = tf_logger.level
    tf_logger.setLevel("ERROR")  # each run traces fresh functions; TF's "retracing" warning is expected here
    try:
        model.fit(
            prefetched(train_data),
            validation_data=(x_val, y_val),
            validation_batch_size=validation_batch_size,
            epochs=epochs,
            initial_epoch=resume_epoch or 0,
            shuffle=False,
            callbacks=callbacks,
            verbose=0,
        )
    finally:
        tf_logger.setLevel(previous_level)
    if backup_dir.parent.is_dir() and not any(backup_dir.parent.iterdir()):
        backup_dir.parent.rmdir()

    result = _result(model, name, optimizer_name, initial_lr, history_path, model_path, train_data, batch_size,
                     save_best)
    write_atomically(_done_path(history_path), (json.dumps(settings, indent=1) + "\n").encode())
    return result


def _result(model: keras.Model, name: str, optimizer_name: str, learning_rate: float, history_path: Path,
            model_path: Path, train_data: Any, batch_size: int, save_best: bool) -> TrainingResult:
    """The TrainingResult of a finished run, read from its history file (and its best weights, if saved)."""
    history = read_history(history_path)
    late_path = _late_path(history_path)
    if not np.isfinite(history[["loss", MONITOR]].to_numpy(dtype=float)).all():
        raise FloatingPointError(
            f"{name}: training diverged (a non-finite loss or validation RMSE in {history_path}) at a peak learning "
            f"rate of {learning_rate:g} with {optimizer_name}; train it again with a lower rate")
    best_row = history.loc[history[MONITOR].idxmin()]
    if save_best and model_path.is_file():
        model.load_weights(model_path)
    return TrainingResult(
        name=name,
        optimizer=optimizer_name.lower(),
        learning_rate=learning_rate,
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
        late_validation=pd.read_csv(late_path) if late_path.is_file() else None,
    )


def _run_settings(model: keras.Model, optimizer_name: str, learning_rate: Any, epochs: int, seed: int,
                  batch_size: int, train_data: Any, save_best: bool,
                  validate_at_steps: Sequence[int]) -> dict[str, Any]:
    """What must match for a finished run to stand for a new call: model, optimizer, budget, seed, data size and
    the steps validated mid-epoch."""
    return {"model": model.name, "parameters": int(model.count_params()), "optimizer": optimizer_name.lower(),
            "learning_rate": learning_rate, "epochs": int(epochs), "seed": int(seed), "batch_size": int(batch_size),
            "train_images": _train_image_count(train_data, batch_size), "save_best": bool(save_best),
            "validate_at_steps": sorted(int(step) for step in validate_at_steps)}


def copy_run(result: TrainingResult, name: str) -> TrainingResult:
    """A finished run's files (model, history, late validation, finished-settings record) copied under ``name`` in
    the same run folder, overwriting an earlier copy; the result, renamed, points at the copies."""
    def copied(path: Path | None) -> Path | None:
        if path is None or not path.is_file():
            return None
        target = path.with_name(name + path.name[len(result.name):])
        write_atomically(target, path.read_bytes())
        return target

    model_path = copied(result.model_path)
    copied(_late_path(result.history_path))
    history_path = copied(result.history_path)
    copied(_done_path(result.history_path))  # the finished-settings record last: it marks the copy complete
    return replace(result, name=name, model_path=model_path, history_path=history_path)


def _keep_finished_epochs(path: Path, resume_epoch: int) -> pd.DataFrame:
    """Rewrite the CSV ``path`` without the rows of epochs a resumed run will train again (``epoch`` column: Keras's
    0-based epoch, or a fractional epoch inside one); returns the rows kept."""
    rows = pd.read_csv(path)
    rows = rows[rows["epoch"] < resume_epoch]
    rows.to_csv(path, index=False)
    return rows


def _late_path(history_path: Path) -> Path:
    return history_path.with_suffix(".late.csv")


def _done_path(history_path: Path) -> Path:
    return history_path.with_suffix(".done.json")


def _finished_settings(history_path: Path) -> dict[str, Any] | None:
    """The settings a finished run recorded beside its history, or None if it did not finish."""
    done = _done_path(history_path)
    return json.loads(done.read_text()) if done.is_file() and history_path.is_file() else None
