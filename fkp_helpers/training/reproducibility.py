"""Seeding: one call seeds everything, and each epoch's random state is a function of ``(seed, epoch)``."""
from __future__ import annotations

from typing import Any

import keras
import numpy as np

from fkp_helpers.tensorflow_setup import uses_tensorflow


def set_reproducible(seed: int) -> None:
    """Seed Python, NumPy and the backend (``keras.utils.set_random_seed``) and make TF ops deterministic.

    On JAX, deterministic GPU kernels are asked for before JAX starts: ``XLA_FLAGS=--xla_gpu_deterministic_ops=true``.
    """
    keras.utils.set_random_seed(seed)
    if uses_tensorflow():
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


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
