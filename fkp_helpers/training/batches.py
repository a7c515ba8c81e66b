"""Feeding in-memory arrays to Keras in batches, in an order that is a pure function of ``(seed, epoch)``."""
from __future__ import annotations

import keras
import numpy as np


class ArrayBatches(keras.utils.PyDataset):
    """Batches of in-memory arrays, reshuffled each epoch by a generator seeded with ``(seed, epoch)``."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
        if len(x) == 0:
            raise ValueError("no training rows")
        self.x, self.y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)
        self.batch_size, self.shuffle, self.seed = int(batch_size), shuffle, int(seed)
        self.set_epoch(0)

    @property
    def num_samples(self) -> int:
        return len(self.x)

    def set_epoch(self, epoch: int) -> None:
        """Use the row order of ``epoch`` (a pure function of seed and epoch, so a resumed run sees the same)."""
        n = len(self.x)
        self._order = np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle else np.arange(n)

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int):
        rows = np.sort(self._order[index * self.batch_size : (index + 1) * self.batch_size])
        return self.x[rows], self.y[rows]
