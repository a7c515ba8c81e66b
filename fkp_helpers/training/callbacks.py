"""Callbacks of a training run: epoch timing, progress lines, the atomic best-model checkpoint, monitor state."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from fkp_helpers.progress import report
from fkp_helpers.training.losses import MONITOR
from fkp_helpers.training.model_files import save_model_atomically
from fkp_helpers.training.optimizers import learning_rate_of


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
