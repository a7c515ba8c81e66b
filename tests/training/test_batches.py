"""Tests for fkp_helpers.training.batches: in-memory batches in a (seed, epoch) order."""
from __future__ import annotations

import numpy as np

from fkp_helpers.training.batches import ArrayBatches


def test_array_batches_reshuffle_per_epoch_and_repeat_for_a_seed():
    batches = ArrayBatches(np.arange(10)[:, None], np.arange(10)[:, None], batch_size=4, seed=3)
    assert len(batches) == 3 and batches.num_samples == 10

    def epoch_rows(epoch):
        batches.set_epoch(epoch)
        return np.concatenate([batches[i][0][:, 0] for i in range(len(batches))])

    assert sorted(epoch_rows(0)) == list(range(10))
    np.testing.assert_array_equal(epoch_rows(1), epoch_rows(1))
    assert not np.array_equal(epoch_rows(0), epoch_rows(1))
