"""Time-ordered training, selection and out-of-time validation slices of a training table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.models.errors import NotEnoughDataError

SLICE_NAMES = ("train", "selection", "validation")


@dataclass(frozen=True)
class Slices:
    """Row positions of the three slices; every training date precedes every selection date, and so on."""

    train: np.ndarray
    selection: np.ndarray
    validation: np.ndarray
    train_end: pd.Timestamp
    selection_end: pd.Timestamp

    def rows(self, name: str) -> np.ndarray:
        return getattr(self, name)


def time_slices(dates: pd.Series, positive: np.ndarray, shares: tuple[float, float, float]) -> Slices:
    """Cut rows by date so each slice holds about its share of the positive cases, in time order.

    The cut dates sit between two dates of positive cases, which guarantees a positive in
    every slice; within that gap they follow the same shares of all rows. ``dates`` must be
    sorted.

    Raises
    ------
    NotEnoughDataError
        When the positive cases fall on fewer than three distinct dates.
    """
    dates = pd.to_datetime(dates).reset_index(drop=True)
    positive_dates = np.sort(dates[np.asarray(positive, dtype=bool)].unique())
    n = len(positive_dates)
    if n < 3:
        raise NotEnoughDataError(
            f"{int(np.sum(positive))} positive case(s) on {n} distinct date(s); training, selection and "
            "out-of-time validation need positive cases on at least 3 dates"
        )
    in_train = min(max(round(shares[0] * n), 1), n - 2)
    in_first_two = min(max(round((shares[0] + shares[1]) * n), in_train + 1), n - 1)
    train_end = _cut(dates, positive_dates[in_train - 1], positive_dates[in_train], shares[0])
    selection_end = _cut(
        dates, positive_dates[in_first_two - 1], positive_dates[in_first_two], shares[0] + shares[1]
    )
    position = np.arange(len(dates))
    return Slices(
        train=position[dates <= train_end],
        selection=position[(dates > train_end) & (dates <= selection_end)],
        validation=position[dates > selection_end],
        train_end=train_end,
        selection_end=selection_end,
    )


def _cut(
    dates: pd.Series, last_inside: np.datetime64, first_outside: np.datetime64, share: float
) -> pd.Timestamp:
    """The row-share quantile of ``dates``, moved into [last_inside, first_outside)."""
    by_rows = dates.quantile(share).floor("D")
    latest = pd.Timestamp(first_outside) - pd.Timedelta(days=1)
    return max(pd.Timestamp(last_inside), min(by_rows, latest))
