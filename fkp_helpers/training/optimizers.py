"""Optimizers with the study's settings (Keras 3 arguments) and learning-rate schedules."""
from __future__ import annotations

import math
from typing import Callable

import keras

OPTIMIZER_NAMES = ("sgd", "adam")
DEFAULT_LEARNING_RATES = {"sgd": 0.01, "adam": 1e-3}


def make_optimizer(name: str, learning_rate: float | None = None) -> keras.optimizers.Optimizer:
    """``"sgd"``: SGD(momentum 0.9, Nesterov), default LR 0.01; ``"adam"``: Adam(1e-3, 0.9, 0.999, epsilon 1e-8)."""
    key = name.lower()
    if key not in OPTIMIZER_NAMES:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZER_NAMES)}")
    learning_rate = DEFAULT_LEARNING_RATES[key] if learning_rate is None else float(learning_rate)
    if key == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True)
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8)


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
