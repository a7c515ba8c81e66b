"""Callbacks of a training run: epoch timing, progress lines, validation inside epochs, the atomic best-model
checkpoint, the epoch backup."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

import keras
import numpy as np
import pandas as pd

from fkp_helpers.data.kaggle_io import write_atomically
from fkp_helpers.progress import report
from fkp_helpers.training.losses import MONITOR, MaskedRMSE
from fkp_helpers.training.model_files import save_model_atomically
from fkp_helpers.training.optimizers import learning_rate_of


class EpochLogger(keras.callbacks.Callback):
    """Adds ``learning_rate``, ``seconds`` (whole epoch), ``validation_seconds`` (the epoch-end validation alone) and
    ``train_images_per_second`` to each epoch's logs."""

    def __init__(self, train_images: int | None):
        super().__init__()
        self.train_images = train_images

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._train_end = self._test_end = None

    def on_test_begin(self, logs=None):
        if getattr(self, "_start", None) is not None and self._train_end is None:
            self._train_end = time.perf_counter()

    def on_test_end(self, logs=None):
        if getattr(self, "_train_end", None) is not None:
            self._test_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        train_seconds = (self._train_end or now) - self._start - logs.get(LateValidation.SECONDS, 0.0)
        logs["learning_rate"] = learning_rate_of(self.model.optimizer)
        logs["seconds"] = now - self._start
        logs["validation_seconds"] = (self._test_end - self._train_end) if self._test_end else float("nan")
        logs["train_images_per_second"] = self.train_images / train_seconds if self.train_images else float("nan")
        self._start = None


class LateValidation(keras.callbacks.Callback):
    """The validation RMSE (px) after chosen training steps that fall inside epochs: a finer validation curve where a
    schedule ends, for the convergence check (``fkp_helpers.training.study.convergence``).

    Each measurement is a row of the CSV ``path`` (``step``, ``epoch`` = step / steps per epoch, ``learning_rate``
    of that step, and ``val_masked_rmse_px``), rewritten atomically; rows already in ``path`` (a resumed run) are
    kept. An epoch's logs get ``late_validation_seconds``, the time these measurements took, which ``EpochLogger``
    (placed after this callback) leaves out of the training throughput. Steps at an epoch's end are skipped: the
    epoch's own validation covers them.
    """

    SECONDS = "late_validation_seconds"

    def __init__(self, path: str | os.PathLike, x_val: np.ndarray, y_val: np.ndarray, steps: Sequence[int],
                 batch_size: int = 128):
        super().__init__()
        self.path, self.x_val, self.y_val = Path(path), x_val, y_val
        self.steps, self.batch_size = set(int(step) for step in steps), int(batch_size)

    def on_train_begin(self, logs=None):
        self.rows = pd.read_csv(self.path).to_dict("records") if self.path.is_file() else []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._seconds = epoch, 0.0

    def on_train_batch_end(self, batch, logs=None):
        steps_per_epoch = self.params["steps"]
        step = self._epoch * steps_per_epoch + batch + 1
        if step in self.steps and (batch + 1) % steps_per_epoch:
            start = time.perf_counter()
            self.rows.append({"step": step, "epoch": step / steps_per_epoch,
                              "learning_rate": learning_rate_of(self.model.optimizer), MONITOR: self._rmse_px()})
            write_atomically(self.path, pd.DataFrame(self.rows).to_csv(index=False).encode())
            self._seconds += time.perf_counter() - start

    def on_epoch_end(self, epoch, logs=None):
        logs[self.SECONDS] = self._seconds

    def _rmse_px(self) -> float:
        metric = MaskedRMSE()
        for start in range(0, len(self.x_val), self.batch_size):
            chunk = slice(start, start + self.batch_size)
            metric.update_state(self.y_val[chunk], self.model.predict_on_batch(self.x_val[chunk]))
        return float(metric.result())


class ProgressPrinter(keras.callbacks.Callback):
    """One concise line every ``every`` epochs (and at the last): losses, validation RMSE in pixels, LR, timing.

    Every epoch is also reported to the runner's progress file (``fkp_helpers.progress``), for its live display.
    """

    def __init__(self, name: str, every: int = 1):
        super().__init__()
        self.name, self.every = name, max(1, int(every))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        report("epoch", run=self.name, epoch=epoch + 1, epochs=self.params.get("epochs"), seconds=logs.get("seconds"))
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


class EpochBackup(keras.callbacks.Callback):
    """The state a killed run resumes from, written at each epoch end and removed when training ends normally.

    ``epoch-<n>.weights.h5`` holds the model's and the optimizer's variables after epoch ``n``; ``state.json`` names
    that file, the epoch, and the bookkeeping of the monitoring callbacks (EarlyStopping, ReduceLROnPlateau, the
    best-model checkpoint). Each file is written to a temporary name and renamed, and ``state.json`` is renamed last,
    so a kill at any moment leaves one complete, consistent backup of a finished epoch, or none.
    """

    STATE = "state.json"
    FIELDS = ("wait", "best", "best_epoch", "cooldown_counter")

    def __init__(self, backup_dir: str | os.PathLike, monitored: dict[str, keras.callbacks.Callback]):
        super().__init__()
        self.backup_dir, self.monitored = Path(backup_dir), monitored

    @classmethod
    def read_state(cls, backup_dir: str | os.PathLike) -> dict[str, Any] | None:
        """The saved state in ``backup_dir``, or None if there is none."""
        path = Path(backup_dir) / cls.STATE
        return json.loads(path.read_text()) if path.is_file() else None

    def on_train_begin(self, logs=None):
        state = self.read_state(self.backup_dir)
        if state is None:
            return
        weights = self.backup_dir / state["weights"]
        if not weights.is_file():
            raise FileNotFoundError(f"{self.backup_dir / self.STATE} names {weights.name}, which is missing; "
                                    f"delete {self.backup_dir} to train this model from the start")
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(weights)
        for key, callback in self.monitored.items():
            for name, value in state.get("monitored", {}).get(key, {}).items():
                setattr(callback, name, value)

    def on_epoch_end(self, epoch, logs=None):
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        weights = self.backup_dir / f"epoch-{epoch + 1}.weights.h5"
        temporary = self.backup_dir / f".tmp-{weights.name}"
        self.model.save_weights(temporary, overwrite=True)
        os.replace(temporary, weights)
        state = {"epoch": epoch + 1, "weights": weights.name, "monitored": {
            key: {name: (None if getattr(callback, name) is None else float(getattr(callback, name)))
                  for name in self.FIELDS if hasattr(callback, name)}
            for key, callback in self.monitored.items()}}
        write_atomically(self.backup_dir / self.STATE, json.dumps(state).encode())
        for old in self.backup_dir.glob("epoch-*.weights.h5"):
            if old != weights:
                old.unlink()

    def on_train_end(self, logs=None):
        shutil.rmtree(self.backup_dir, ignore_errors=True)
