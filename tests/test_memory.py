"""fkp_helpers.memory: freed large blocks stay in malloc's heap and are reused without faulting their pages in again."""
from __future__ import annotations

import ctypes
import inspect
import resource
import subprocess
import sys

import numpy as np
import pytest

from fkp_helpers.memory import keep_freed_memory

N_BYTES = 256 * 2**20
"""Far above glibc's largest dynamic mmap threshold (32 MiB): by default malloc maps and unmaps such a block."""
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (the main arena's statistics, in bytes)."""

    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]


def mallinfo2() -> MallInfo2:
    """The main arena's statistics now; skips where glibc (2.33 or newer) does not provide them."""
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("no glibc mallinfo2 here")
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2()


def faults_of_touching(n_bytes: int) -> int:
    """Minor page faults of allocating ``n_bytes``, writing every page and freeing them."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.empty(n_bytes, dtype=np.uint8)
    block[::4096] = 1
    del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_a_large_block_comes_from_the_heap_and_stays_there_when_freed():
    assert keep_freed_memory()
    before = mallinfo2()
    block = np.empty(N_BYTES, dtype=np.uint8)
    block[::4096] = 1
    held = mallinfo2()
    del block
    freed = mallinfo2()
    assert held.hblkhd - before.hblkhd < N_BYTES, "not an mmap'ed block (M_MMAP_MAX 0)"
    assert held.uordblks - before.uordblks >= N_BYTES, "served from the heap"
    assert freed.arena >= N_BYTES and freed.fordblks >= N_BYTES, "kept in the heap once freed (M_TRIM_THRESHOLD)"


def test_a_freed_block_is_reused_with_a_tenth_of_the_page_faults_at_most():
    """The same allocation in a fresh process without ``keep_freed_memory`` is the yardstick: its count depends on
    the kernel (about 640 faults with transparent huge pages, 65,000 without), the ratio does not."""
    code = "\n".join(["import resource", "import numpy as np", inspect.getsource(faults_of_touching),
                      f"faults_of_touching({N_BYTES})", f"print(faults_of_touching({N_BYTES}))"])
    without = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert keep_freed_memory()
    faults_of_touching(N_BYTES)  # the heap grows to hold it (or held it already)
    assert faults_of_touching(N_BYTES) * 10 <= without, f"{without} faults without keep_freed_memory"
