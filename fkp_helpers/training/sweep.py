"""The learning-rate sweep: the same initial weights trained at several rates."""
from __future__ import annotations

import math
import os
from typing import Sequence

import keras
import numpy as np
import pandas as pd

from fkp_helpers.training.loop import TrainingResult, train_model
from fkp_helpers.training.losses import MONITOR
from fkp_helpers.training.models import copy_model


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
