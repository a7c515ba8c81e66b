"""The masked loss and pixel metrics: missing (NaN) coordinates never count, so every row trains.

The loss is the mean squared error in the units the network regresses: ``((pred - true) / scale) ** 2`` with the
scale of its output layer (48 px for ``(y - 48) / 48``, or each coordinate's training spread for standardised
targets; ``models.output_scale``), so that the loss, and with it SGD's step, does not depend on pixel units.
Metrics are in pixels.
The Keras classes are registered (package ``fkp``) where they are defined, so a saved model loads wherever this
module has been imported.
"""
from __future__ import annotations

from typing import Any, Sequence

import keras
import numpy as np

from fkp_helpers.training.models import COORDINATE_SCALE

ops = keras.ops

MONITOR = "val_masked_rmse_px"
"""What the best-model checkpoint and EarlyStopping watch."""
PLATEAU_MONITOR = "val_masked_mae"
"""What ReduceLROnPlateau watches."""


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
    """Keras loss: ``masked_mse(y_true, y_pred, scale)`` over the whole batch (default scale 48: normalised units);
    ``scale`` is one number or one per coordinate."""

    def __init__(self, scale: float | Sequence[float] = COORDINATE_SCALE, name: str = "masked_mse",
                 reduction: str = "sum", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)
        self.scale = float(scale) if np.ndim(scale) == 0 else [float(v) for v in scale]

    def call(self, y_true, y_pred):
        # Per-row shares of the batch mean; the "sum" reduction adds them up to the mean over labelled coordinates.
        difference, labelled = _masked_difference(y_true, y_pred)
        row_sums = ops.sum(ops.square(difference / ops.convert_to_tensor(self.scale, difference.dtype)), axis=-1)
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
