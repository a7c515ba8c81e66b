"""Fixtures of the training tests: tiny random data and a tiny VGG every run starts from."""
from __future__ import annotations

import numpy as np
import pytest

from fkp_helpers.training import build_vgg, set_reproducible

N_IMAGES, N_TRAIN = 32, 24
METRIC_COLUMNS = ["epoch", "loss", "masked_mae", "masked_rmse_px", "val_loss", "val_masked_mae", "val_masked_rmse_px",
                  "learning_rate"]


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


@pytest.fixture
def metric_columns() -> list[str]:
    """The columns every training history has."""
    return METRIC_COLUMNS
