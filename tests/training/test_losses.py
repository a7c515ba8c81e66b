"""Tests for fkp_helpers.training.losses: the masked loss and the pixel metrics."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from fkp_helpers.training.losses import MaskedMAE, MaskedMSE, MaskedRMSE, masked_mae, masked_mse, masked_rmse_px


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


def test_a_per_coordinate_scale_divides_each_coordinate_error_by_its_own_scale():
    y_true = np.array([[10.0, 20.0] + [0.0] * 28], dtype=np.float32)
    y_pred = np.array([[12.0, 26.0] + [0.0] * 28], dtype=np.float32)
    scale = [2.0, 3.0] + [1.0] * 28
    loss = MaskedMSE(scale)(y_true, y_pred)
    assert float(loss) == pytest.approx((1.0 + 4.0) / 30)
    assert MaskedMSE.from_config(MaskedMSE(scale).get_config()).scale == scale
