"""fkp_helpers.memory: freed large blocks are reused without faulting their pages in again."""
from __future__ import annotations

import resource
import sys

import numpy as np
import pytest

from fkp_helpers.memory import keep_freed_memory


def _faults_of_touching(n_bytes: int) -> int:
    """Minor page faults of allocating ``n_bytes``, writing every page and freeing them."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.empty(n_bytes, dtype=np.uint8)
    block[::4096] = 1
    del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_freed_block_is_reused_without_page_faults():
    assert keep_freed_memory()
    n_bytes = 256 * 2**20
    _faults_of_touching(n_bytes)  # the heap grows to hold it (or held it already)
    assert _faults_of_touching(n_bytes) < 50  # without keep_freed_memory: ~640 with huge pages, ~65,000 without
