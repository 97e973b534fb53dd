"""Plain JSON values from numpy, pandas and date values: the one converter every response, record and row uses."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd


def to_jsonable(value: Any, *, iso_dates: bool = True) -> Any:
    """``value`` as plain Python that ``json.dumps(..., allow_nan=False)`` accepts.

    numpy scalars become Python numbers and booleans; NaN, infinities, ``None``, ``pd.NA``
    and ``pd.NaT`` become ``None``; a ``pd.Timestamp`` becomes its day as ``YYYY-MM-DD``
    and any other date or datetime its ``isoformat()``. Mappings (keys as strings), lists,
    tuples and arrays are converted item by item; other values are returned unchanged.

    Parameters
    ----------
    value
        A scalar, or a mapping or sequence of them (nested to any depth).
    iso_dates
        When False, dates stay ``datetime.date`` objects (a ``pd.Timestamp`` becomes its
        day), as database drivers take them.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> to_jsonable({"pd": np.float64(0.25), "n": np.int64(3), "late": np.nan, "as_of": pd.Timestamp("2024-03-31")})
    {'pd': 0.25, 'n': 3, 'late': None, 'as_of': '2024-03-31'}
    >>> to_jsonable([np.inf, pd.NA, pd.NaT, np.bool_(True)])
    [None, None, None, True]
    >>> to_jsonable(pd.Timestamp("2024-03-31"), iso_dates=False)
    datetime.date(2024, 3, 31)
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, iso_dates=iso_dates) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [to_jsonable(v, iso_dates=iso_dates) for v in value]
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if iso_dates else value.date()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, date) and iso_dates:
        return value.isoformat()
    return value
