"""Feeding in-memory arrays to Keras in batches, in an order that is a pure function of ``(seed, epoch)``, and handing
a batch sequence to ``fit`` with a fixed prefetch buffer."""
from __future__ import annotations

import keras
import numpy as np

from fkp_helpers.tensorflow_setup import uses_tensorflow

PREFETCH_BATCHES = 2
"""Batches ``prefetched`` prepares ahead of the one training: enough to hide preparing (augmenting) one."""


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


def prefetched(batches: keras.utils.PyDataset, buffer: int = PREFETCH_BATCHES):
    """The batches of ``batches``, in order, as a ``tf.data`` pipeline that prepares the next ``buffer`` while the
    model trains, with tf.data's autotuning off; for ``Model.fit`` in place of ``batches``. On another Keras backend
    than TensorFlow, ``batches`` itself: Keras feeds it with the sequence's own ``workers``.

    Keras feeds a one-worker PyDataset through ``prefetch(AUTOTUNE)``. On 2 cores the autotuner can compete with the
    training kernels from the second epoch on: with oneDNN's AVX2 kernels, ``benchmarks/bench_report.py``'s VGG loop
    trained at 28.9-29.8 images/s that way and at 49.3-50.5 through this pipeline (not in every run: the slow epochs
    come and go; ``bench_training.py --only feeding`` compares the two).

    The batches are the same: each epoch's iteration starts after ``fit``'s epoch-begin callbacks (``set_epoch``) and
    reads ``batches[0]``, ``batches[1]``, ...; at its end it calls ``batches.on_epoch_end()``, so a sequence without
    ``set_epoch`` still moves on to new batches. The sequence's own ``workers`` are not used: batches are prepared one
    at a time, ahead of the training step.
    """
    if not uses_tensorflow():
        return batches
    import tensorflow as tf

    first = batches[0]
    signature = tuple(tf.TensorSpec((None, *np.shape(part)[1:]), tf.as_dtype(np.asarray(part).dtype))
                      for part in first)

    def epoch():
        for index in range(len(batches)):
            yield batches[index]
        batches.on_epoch_end()

    options = tf.data.Options()
    options.autotune.enabled = False
    dataset = tf.data.Dataset.from_generator(epoch, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(buffer).with_options(options)
