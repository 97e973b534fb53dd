"""Time in the synthetic ledger generator: the month grid, business days and day arithmetic.

Days are ``int64`` counts since 1970-01-01 throughout the generator; :data:`NEVER` marks
"no such date" (no default, not settled, ...). Conversion to pandas happens only at the end
(:func:`to_datetime`).
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date

import numpy as np

NEVER: int = 2**40
"""Sentinel day for a date that never happens; far beyond any data end, safe to add to."""

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Calendar:
    """The simulated months: ``month_starts`` holds ``months + 1`` day numbers, the last being the data end."""

    month_starts: np.ndarray

    @classmethod
    def from_start(cls, start: date, months: int) -> Calendar:
        """Month boundaries ``start + k`` months for k = 0..months (day of month clamped to the month's length)."""
        days = []
        for k in range(months + 1):
            year, month0 = divmod(start.month - 1 + k, 12)
            month = month0 + 1
            day = min(start.day, monthrange(start.year + year, month)[1])
            days.append((date(start.year + year, month, day) - _EPOCH).days)
        return cls(month_starts=np.asarray(days, dtype=np.int64))

    @property
    def months(self) -> int:
        return len(self.month_starts) - 1

    @property
    def start(self) -> int:
        return int(self.month_starts[0])

    @property
    def end(self) -> int:
        """First day after the data (exclusive end)."""
        return int(self.month_starts[-1])

    @property
    def month_lengths(self) -> np.ndarray:
        return np.diff(self.month_starts)

    @property
    def month_of_year(self) -> np.ndarray:
        """Calendar month (1..12) of each simulated month, shape (months,)."""
        stamps = self.month_starts[:-1].astype("datetime64[D]").astype("datetime64[M]")
        return stamps.astype(np.int64) % 12 + 1

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Index of the simulated month that contains each day (-1 before the start)."""
        return np.searchsorted(self.month_starts, days, side="right") - 1

    def uniform_day(self, rng: np.random.Generator, months: np.ndarray) -> np.ndarray:
        """A uniformly random day inside each given simulated month."""
        lengths = self.month_lengths[months]
        return self.month_starts[months] + (rng.random(len(months)) * lengths).astype(np.int64)


def weekday(days: np.ndarray) -> np.ndarray:
    """Day of week, Monday = 0 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def next_business_day(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays to the following Monday; :data:`NEVER` stays put."""
    wd = weekday(days)
    shifted = days + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
    return np.where(days >= NEVER, days, shifted)


def previous_business_day(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays back to the preceding Friday (payment runs happen on weekdays)."""
    wd = weekday(days)
    return days - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))


def nearest_business_day(days: np.ndarray) -> np.ndarray:
    """Move Saturdays back to Friday and Sundays on to Monday."""
    wd = weekday(days)
    return days + np.where(wd == 5, -1, np.where(wd == 6, 1, 0))


def uniform_days(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    """Integer day offsets drawn uniformly from [low, high]."""
    return rng.integers(int(low), int(high) + 1, size=size, dtype=np.int64)


def to_datetime(days: np.ndarray, end: int) -> np.ndarray:
    """Day numbers as ``datetime64[s]``; :data:`NEVER` and days on or after ``end`` become NaT."""
    out = days.astype("datetime64[D]").astype("datetime64[s]")
    out[days >= end] = np.datetime64("NaT")
    return out
