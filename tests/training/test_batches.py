"""Tests for fkp_helpers.training.batches: in-memory batches in a (seed, epoch) order."""
from __future__ import annotations

import numpy as np

from fkp_helpers.training.batches import ArrayBatches, prefetched


def test_array_batches_reshuffle_per_epoch_and_repeat_for_a_seed():
    batches = ArrayBatches(np.arange(10)[:, None], np.arange(10)[:, None], batch_size=4, seed=3)
    assert len(batches) == 3 and batches.num_samples == 10

    def epoch_rows(epoch):
        batches.set_epoch(epoch)
        return np.concatenate([batches[i][0][:, 0] for i in range(len(batches))])

    assert sorted(epoch_rows(0)) == list(range(10))
    np.testing.assert_array_equal(epoch_rows(1), epoch_rows(1))
    assert not np.array_equal(epoch_rows(0), epoch_rows(1))


class Counting(ArrayBatches):
    """ArrayBatches that counts the epoch ends it is told of."""

    ends = 0

    def on_epoch_end(self):
        self.ends += 1


def test_prefetched_yields_the_sequences_batches_of_the_epoch_set_before_iterating():
    batches = Counting(np.arange(10, dtype=np.float32)[:, None], np.arange(10)[:, None] * 2.0, batch_size=4, seed=3)
    dataset = prefetched(batches)
    assert int(dataset.cardinality()) == len(batches), "fit must know the steps of an epoch (LateValidation uses them)"
    for epoch in (0, 1):
        batches.set_epoch(epoch)
        expected = [batches[i] for i in range(len(batches))]
        got = [(x.numpy(), y.numpy()) for x, y in dataset]
        assert len(got) == len(expected)
        for (x, y), (x_expected, y_expected) in zip(got, expected):
            np.testing.assert_array_equal(x, x_expected)
            np.testing.assert_array_equal(y, y_expected)
            assert x.dtype == np.float32
    assert batches.ends == 2
    assert not dataset.options().autotune.enabled
