"""Zero-padded string ids of the synthetic ledger, such as ``C000001`` and ``INV00000001``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """Zero-padded string ids such as ``INV00000001`` for positive integers, built without Python loops.

    Parameters
    ----------
    prefix : str
        ASCII prefix, e.g. ``"C"``.
    numbers : np.ndarray
        Positive integers of shape (n,), each with at most ``width`` digits.
    width : int
        Number of digits after the prefix.
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    n = len(numbers)
    row = len(prefix) + width
    buf = np.empty((n, row), dtype=np.uint8)
    buf[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    rest = numbers.copy()
    for pos in range(row - 1, len(prefix) - 1, -1):
        buf[:, pos] = 48 + rest % 10
        rest //= 10
    offsets = np.arange(n + 1, dtype=np.int64) * row
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.ravel()))
    return arr.to_pandas()


def id_width(count: int, minimum: int) -> int:
    """Digits needed to number ``count`` items, at least ``minimum``."""
    return max(minimum, len(str(max(count, 1))))
