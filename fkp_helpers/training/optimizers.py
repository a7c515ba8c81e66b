"""Optimizers with the study's settings (Keras 3 arguments) and learning-rate schedules."""
from __future__ import annotations

import math
from typing import Any, Callable, Union

import keras

OPTIMIZER_NAMES = ("sgd", "adam")
DEFAULT_LEARNING_RATES = {"sgd": 0.01, "adam": 1e-3}
LearningRate = Union[float, keras.optimizers.schedules.LearningRateSchedule]
"""A constant rate or a per-step schedule."""


def make_optimizer(name: str, learning_rate: LearningRate | None = None) -> keras.optimizers.Optimizer:
    """``"sgd"``: SGD(momentum 0.9, Nesterov), default LR 0.01; ``"adam"``: Adam(1e-3, 0.9, 0.999, epsilon 1e-8).
    ``learning_rate`` may be a per-step schedule (e.g. ``warmup_cosine``)."""
    key = name.lower()
    if key not in OPTIMIZER_NAMES:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZER_NAMES)}")
    if learning_rate is None:
        learning_rate = DEFAULT_LEARNING_RATES[key]
    elif isinstance(learning_rate, (int, float)):
        learning_rate = float(learning_rate)
    if key == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True)
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8)


def learning_rate_of(optimizer: keras.optimizers.Optimizer) -> float:
    """The learning rate an optimizer currently applies."""
    return float(optimizer.learning_rate)


def warmup_cosine(peak: float, total_steps: int, warmup_fraction: float = 0.05,
                  final_fraction: float = 0.01) -> keras.optimizers.schedules.CosineDecay:
    """A linear warmup from 0 to ``peak`` over ``warmup_fraction`` of the steps, then cosine decay to
    ``final_fraction * peak`` at ``total_steps`` (Keras ``CosineDecay`` with its warmup)."""
    if total_steps < 2:
        raise ValueError(f"a warmup-cosine schedule needs at least 2 steps, got {total_steps}")
    warmup = max(1, round(warmup_fraction * total_steps))
    return keras.optimizers.schedules.CosineDecay(0.0, total_steps - warmup, alpha=final_fraction,
                                                  warmup_target=float(peak), warmup_steps=warmup)


def learning_rate_schedule(
    optimizer: keras.optimizers.Optimizer,
) -> keras.optimizers.schedules.LearningRateSchedule | None:
    """The per-step schedule the optimizer follows, or None for a constant rate."""
    schedule = getattr(optimizer, "_learning_rate", None)
    return schedule if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule) else None


def peak_learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """The optimizer's constant rate, or its schedule's warmup target (its peak) or initial rate."""
    schedule = learning_rate_schedule(optimizer)
    if schedule is None:
        return float(f"{learning_rate_of(optimizer):.7g}")  # the float32 variable's value as it was given
    config = schedule.get_config()
    return float(config.get("warmup_target") or config["initial_learning_rate"])


def describe_learning_rate(optimizer: keras.optimizers.Optimizer) -> float | dict[str, Any]:
    """The constant rate, or the schedule's class and config (JSON-ready): what makes two runs' rates the same."""
    schedule = learning_rate_schedule(optimizer)
    return peak_learning_rate(optimizer) if schedule is None else {type(schedule).__name__: schedule.get_config()}


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
