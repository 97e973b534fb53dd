"""Training, selection and validation slices of a training table: by date, or stratified for undated tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedShuffleSplit

from riskmodel.exceptions import NotEnoughDataError

SLICE_NAMES = ("train", "selection", "validation")


@dataclass(frozen=True)
class Slices:
    """Row positions of the three slices.

    Time slices: every training date precedes every selection date, and so on. Stratified
    slices (tables without dates) have no cut dates (``train_end`` and ``selection_end`` are None).
    """

    train: np.ndarray
    selection: np.ndarray
    validation: np.ndarray
    train_end: pd.Timestamp | None = None
    selection_end: pd.Timestamp | None = None

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


def stratified_slices(
    y_fit: np.ndarray, n_validation: int, shares: tuple[float, float, float], random_state: int
) -> Slices:
    """Split the first ``len(y_fit)`` rows into training and selection, stratified by ``y_fit``.

    The ``n_validation`` rows that follow them are the validation slice (a hold-out chosen
    by the caller). Training and selection rows keep the ratio ``shares[0] : shares[1]``
    and come in shuffled order, so the GBM's early-stopping rows are a random part of them.

    Raises
    ------
    NotEnoughDataError
        When either class has fewer than 2 rows in ``y_fit``.
    """
    y_fit = np.asarray(y_fit)
    counts = np.bincount(y_fit.astype(int), minlength=2)
    if counts.min() < 2:
        raise NotEnoughDataError(
            f"{counts[1]} positive and {counts[0]} negative row(s) outside the hold-out; "
            "a stratified training and selection split needs at least 2 of each"
        )
    selection_share = shares[1] / (shares[0] + shares[1])
    n_selection = min(max(round(selection_share * len(y_fit)), 2), len(y_fit) - 2)
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_selection, random_state=random_state)
    train, selection = next(splitter.split(np.zeros((len(y_fit), 1)), y_fit))
    return Slices(train=train, selection=selection, validation=len(y_fit) + np.arange(n_validation))


def _cut(
    dates: pd.Series, last_inside: np.datetime64, first_outside: np.datetime64, share: float
) -> pd.Timestamp:
    """The row-share quantile of ``dates``, moved into [last_inside, first_outside)."""
    by_rows = dates.quantile(share).floor("D")
    latest = pd.Timestamp(first_outside) - pd.Timedelta(days=1)
    return max(pd.Timestamp(last_inside), min(by_rows, latest))
