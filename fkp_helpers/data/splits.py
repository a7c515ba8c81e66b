"""Train/validation splits by image, with exact duplicate images kept on one side."""
from __future__ import annotations

import hashlib

import numpy as np


def image_groups(images: np.ndarray) -> np.ndarray:
    """Group id ``(N,)`` per image: exact duplicates (same pixels) share an id, numbered by first appearance."""
    digests = [hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest() for image in images]
    first_id: dict[bytes, int] = {}
    return np.array([first_id.setdefault(d, len(first_id)) for d in digests], dtype=np.int64)


def train_val_split(images: np.ndarray, val_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and validation row indices; whole duplicate groups go to one side, chosen with ``seed``."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    groups = image_groups(images)
    n_groups = int(groups.max()) + 1
    order = np.random.default_rng(seed).permutation(n_groups)
    sizes = np.bincount(groups, minlength=n_groups)
    cumulative = np.cumsum(sizes[order])
    val_groups = order[: int(np.searchsorted(cumulative, round(val_fraction * len(images)))) + 1]
    is_val = np.isin(groups, val_groups)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def training_split(
    images: np.ndarray, val_fraction: float, seed: int, max_train_images: int | None = None
) -> dict[str, np.ndarray]:
    """Split by image (duplicates on one side, ``train_val_split``), then cap the training rows.

    Returns sorted ``train_index`` (rows used for fitting), ``val_index`` (never capped) and ``train_pool_index``
    (all training-side rows; the cap takes a random subset of it, seeded by ``seed``).
    """
    pool, val = train_val_split(images, val_fraction, seed)
    train = pool
    if max_train_images is not None and len(pool) > max_train_images:
        train = np.sort(np.random.default_rng([seed, 1]).choice(pool, size=max_train_images, replace=False))
    return {"train_index": train, "val_index": val, "train_pool_index": pool}
