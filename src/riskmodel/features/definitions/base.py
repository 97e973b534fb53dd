"""What every feature family is built from: the ``Feature`` and ``FeatureConfig`` records,
the shared constants and the two SQL helpers.

Stages
------
``history``  an aggregate over the snapshot's history rows (columns listed in ``HISTORY_COLUMNS``)
``recent``   an aggregate over the last ``last_n`` settled invoices
``events``   an aggregate over the customer's credit events up to ``as_of``
``derived``  an expression over the features of the earlier stages and the customer row
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Stage = Literal["history", "recent", "events", "derived"]
Level = Literal["customer", "invoice", "onboarding"]

AGING_BUCKETS: tuple[tuple[str, str, str, str], ...] = (
    # name, condition on days_past_due, English, Chinese
    ("current", "days_past_due <= 0", "not yet due", "未到期"),
    ("1_30", "days_past_due BETWEEN 1 AND 30", "1-30 days past due", "逾期1-30天"),
    ("31_60", "days_past_due BETWEEN 31 AND 60", "31-60 days past due", "逾期31-60天"),
    ("61_90", "days_past_due BETWEEN 61 AND 90", "61-90 days past due", "逾期61-90天"),
    ("90_plus", "days_past_due > 90", "more than 90 days past due", "逾期90天以上"),
)

# A history row of an invoice settled within the last {w} days.
SETTLED_IN = "is_settled AND days_since_settled < {w}"


@dataclass(frozen=True)
class Feature:
    """One feature: its SQL, where it is computed, and what it means to a credit officer.

    ``direction`` is +1 when a higher value raises risk, -1 when it lowers risk, 0 when
    the domain is not sure (the model learns it; no monotone constraint is set).
    """

    name: str
    sql: str
    stage: Stage
    group: str
    unit: str
    direction: int
    en: str
    zh: str
    levels: tuple[Level, ...] = ("customer", "invoice")
    categorical: bool = False


@dataclass(frozen=True)
class FeatureConfig:
    """Windows and counts the registry is built from (``features.*`` params in MLflow).

    ``windows_days`` is stored as a tuple (a list is converted) so that the config is
    hashable: the built registry is cached per config.
    """

    windows_days: tuple[int, ...] = (90, 180, 365)
    last_n: int = 5
    active_window_days: int = 365
    similar_size_ratio: float = 2.0

    def __post_init__(self) -> None:
        if not isinstance(self.windows_days, tuple):
            object.__setattr__(self, "windows_days", tuple(self.windows_days))
        if (
            not self.windows_days
            or sorted(set(self.windows_days)) != list(self.windows_days)
            or self.windows_days[0] <= 0
        ):
            raise ValueError(f"windows_days must be increasing positive day counts; got {self.windows_days}")
        if self.last_n < 1:
            raise ValueError(f"last_n must be at least 1; got {self.last_n}")
        if self.similar_size_ratio <= 1:
            raise ValueError(f"similar_size_ratio must be above 1; got {self.similar_size_ratio}")


def case_when(condition: str, value: str, otherwise: str = "NULL") -> str:
    """``CASE WHEN condition THEN value ELSE otherwise END``."""
    return f"CASE WHEN {condition} THEN {value} ELSE {otherwise} END"


def ratio(numerator: str, denominator: str) -> str:
    """``numerator / denominator`` as a double, NULL when the denominator is 0."""
    return f"CAST({numerator} AS DOUBLE) / NULLIF({denominator}, 0)"
