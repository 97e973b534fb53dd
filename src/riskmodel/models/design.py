"""Out-of-time design of a training table: development rows, validation rows and the folds inside development.

Dated tables (:func:`time_design`) follow one rule for both classes: a row may train a
model cut at date ``c`` only when its outcome window closes on or before ``c``. The
validation rows are dated after the validation cut and their outcomes are known at the
data end; the development rows' windows close before that cut, so between the last
development date and the first validation date lies at least one outcome window (the
gap). Model choice and calibration use rolling origins inside the development period,
with the same rule at each origin. Undated tables (:func:`stratified_design`) use
stratified folds of the rows outside a given hold-out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from riskmodel.exceptions import NotEnoughDataError

MIN_FIT_POSITIVE_SHARE = (
    0.1  # the first rolling origin fits on at least this share of the development positives
)


@dataclass(frozen=True)
class Fold:
    """One rolling origin (or one stratified fold): rows a model is fitted on and rows it then scores."""

    fit: np.ndarray
    test: np.ndarray
    origin: pd.Timestamp | None = None
    end: pd.Timestamp | None = None


@dataclass(frozen=True)
class Design:
    """Row positions of the development, validation and refit rows, and the development folds.

    ``labelled`` are all rows whose outcome is known at the data end: the registered model
    is refitted on them after the choice. For undated tables it equals ``development``
    (the hold-out stays unseen). ``cut`` is None for undated tables.
    """

    development: np.ndarray
    validation: np.ndarray
    labelled: np.ndarray
    folds: tuple[Fold, ...]
    cut: pd.Timestamp | None = None

    def rows(self, name: str) -> np.ndarray:
        return getattr(self, name)


def time_design(
    dates: pd.Series,
    outcome_end: pd.Series,
    known: np.ndarray,
    positive: np.ndarray,
    validation_share: float,
    n_folds: int,
    min_fit_positives: int = 1,
) -> Design:
    """Development, validation and rolling-origin folds of a dated table.

    The validation rows are those dated after the cut that hold about the last
    ``validation_share`` of the known positive cases' dates. A row is in development when
    its outcome window closes (``outcome_end``) on or before the cut. Inside development,
    ``n_folds`` origins are spread evenly from the first date at which the rows with closed
    windows hold at least a tenth of the development positives (and ``min_fit_positives``)
    to the last development date; each fold fits on the rows whose windows close by its
    origin and tests on the development rows dated in its block.

    Raises
    ------
    NotEnoughDataError
        When the positive cases fall on too few dates, development holds no positive case,
        or the development period is too short for one rolling origin.
    """
    dates = pd.to_datetime(dates).reset_index(drop=True)
    outcome_end = pd.to_datetime(outcome_end).reset_index(drop=True)
    known, positive = np.asarray(known, dtype=bool), np.asarray(positive, dtype=bool) & np.asarray(known)
    positive_dates = np.sort(dates[positive].unique())
    if len(positive_dates) < 2:
        raise NotEnoughDataError(
            f"{int(positive.sum())} positive case(s) with a known outcome on {len(positive_dates)} date(s); "
            "development and out-of-time validation need positive cases on at least 2 dates"
        )
    n_development = min(max(round((1 - validation_share) * len(positive_dates)), 1), len(positive_dates) - 1)
    first_validation = pd.Timestamp(positive_dates[n_development])
    cut = dates[dates < first_validation].max()
    position = np.arange(len(dates))
    development = position[known & (outcome_end <= cut).to_numpy()]
    validation = position[known & (dates > cut).to_numpy()]
    labelled = position[known]
    if not positive[development].any():
        raise NotEnoughDataError(
            f"no positive case's outcome window closes before the validation cut {cut.date()} "
            f"(validation from {dates[validation].min().date()}); the history is too short for a "
            "development period, a gap of one outcome window and a validation period"
        )
    folds = _rolling_folds(dates, outcome_end, development, positive, n_folds, min_fit_positives)
    if not folds:
        raise NotEnoughDataError(
            f"the development period ({dates[development].min().date()} to {dates[development].max().date()}, "
            f"{int(positive[development].sum())} positive case(s)) is too short for a rolling origin: no date "
            "has positive and negative rows both with closed outcome windows before it and after it; add history"
        )
    return Design(development, validation, labelled, tuple(folds), cut)


def _rolling_folds(
    dates: pd.Series,
    outcome_end: pd.Series,
    development: np.ndarray,
    positive: np.ndarray,
    n_folds: int,
    min_fit_positives: int,
) -> list[Fold]:
    dev_dates, dev_end = dates.iloc[development], outcome_end.iloc[development]
    dev_positive = positive[development]
    needed = max(min_fit_positives, int(np.ceil(MIN_FIT_POSITIVE_SHARE * dev_positive.sum())))
    closing = np.sort(dev_end[dev_positive].to_numpy())
    if needed > len(closing):
        return []
    first_origin = pd.Timestamp(closing[needed - 1])
    last_date = dev_dates.max()
    if first_origin >= last_date:
        return []
    edges = pd.date_range(first_origin, last_date, periods=n_folds + 1)
    folds = []
    for origin, end in zip(edges[:-1], edges[1:], strict=True):
        fit = development[(dev_end <= origin).to_numpy()]
        test = development[((dev_dates > origin) & (dev_dates <= end)).to_numpy()]
        if len(np.unique(positive[fit])) == 2 and len(np.unique(positive[test])) == 2:
            folds.append(Fold(fit, test, origin, end))
    return folds


def stratified_design(
    y_development: np.ndarray, n_validation: int, n_folds: int, random_state: int
) -> Design:
    """Stratified folds of the first ``len(y_development)`` rows; the ``n_validation`` rows after them validate.

    Raises
    ------
    NotEnoughDataError
        When either class has fewer than 2 rows in ``y_development``.
    """
    y = np.asarray(y_development).astype(int)
    counts = np.bincount(y, minlength=2)
    if counts.min() < 2:
        raise NotEnoughDataError(
            f"{counts[1]} positive and {counts[0]} negative row(s) outside the hold-out; "
            "stratified folds need at least 2 of each"
        )
    splitter = StratifiedKFold(
        n_splits=int(min(n_folds, counts.min())), shuffle=True, random_state=random_state
    )
    rng = np.random.default_rng(random_state)  # shuffled, so a GBM's early-stopping rows are a random part
    folds = tuple(Fold(rng.permutation(fit), test) for fit, test in splitter.split(np.zeros((len(y), 1)), y))
    development = rng.permutation(len(y))
    return Design(development, len(y) + np.arange(n_validation), development, folds)
