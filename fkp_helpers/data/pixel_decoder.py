"""Decoding Kaggle's pixel strings ("238 236 237 ...") in one compiled pass over the file's bytes (numba)."""
from __future__ import annotations

import numba
import numpy as np

OK, NON_NUMERIC, OUT_OF_RANGE, WRONG_COUNT = 0, 1, 2, 3
SPACE, ZERO, NINE = ord(" "), ord("0"), ord("9")


@numba.njit(cache=True, nogil=True)
def decode_pixel_rows(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray, out: np.ndarray) -> tuple[int, int, int]:
    """Fill ``out[r]`` (flat uint8 rows) with the space-separated integers in ``buffer[starts[r]:ends[r]]``.

    Returns ``(status, row, detail)``: ``(OK, -1, -1)``, or the first problem: ``NON_NUMERIC``/``OUT_OF_RANGE`` with
    the byte offset of the offending character, or ``WRONG_COUNT`` with the number of values found in that row.
    """
    n_values = out.shape[1]
    for row in range(starts.shape[0]):
        count, value = 0, -1
        for position in range(starts[row], ends[row]):
            char = buffer[position]
            if char == SPACE:
                if value >= 0:
                    if count < n_values:
                        out[row, count] = value
                    count += 1
                    value = -1
            elif ZERO <= char <= NINE:
                value = (char - ZERO) if value < 0 else value * 10 + (char - ZERO)
                if value > 255:
                    return OUT_OF_RANGE, row, position
            else:
                return NON_NUMERIC, row, position
        if value >= 0:
            if count < n_values:
                out[row, count] = value
            count += 1
        if count != n_values:
            return WRONG_COUNT, row, count
    return OK, -1, -1
