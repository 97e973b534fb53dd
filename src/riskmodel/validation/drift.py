"""Drift monitoring: stability of scores and features between a reference window and a current one.

The index is the population stability index, :func:`psi` (bins at the deciles of the
reference); the warning and severe levels come from the credit policy (``drift.psi_warning``
and ``drift.psi_severe``). A :class:`DriftMonitor` keeps only the reference's bins and
shares, so a fitted model can carry its development sample's distribution (training fits
one on the default model's training slice) and batch rescoring compares each portfolio with
it. The validation notebook compares two windows directly with :func:`drift_report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from riskmodel.policy.config import DriftThresholds

STABLE, WARNING, SEVERE, NO_DATA = "stable", "warning", "severe", "no data"
REPORT_COLUMNS = (
    "feature",
    "psi",
    "status",
    "n_reference",
    "n_current",
    "missing_reference",
    "missing_current",
)


def psi_edges(expected: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Inner bin edges of the PSI: the ``n_bins`` quantiles of ``expected``, repeated ones merged."""
    return np.unique(np.quantile(np.asarray(expected, dtype=float), np.linspace(0, 1, n_bins + 1)[1:-1]))


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of ``values`` in each of the ``len(edges) + 1`` bins (a value equal to an edge goes above it)."""
    values = np.asarray(values, dtype=float)
    return np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1) / len(values)


def psi_of_shares(expected_share: np.ndarray, actual_share: np.ndarray) -> float:
    """PSI of two sets of bin shares; empty bins count as a share of 1e-4."""
    e_share, a_share = np.maximum(expected_share, 1e-4), np.maximum(actual_share, 1e-4)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def psi(expected: np.ndarray, actual: np.ndarray, n_bins: int = 10) -> float:
    """Population stability index of ``actual`` scores against ``expected`` ones.

    Bins are the deciles (``n_bins`` quantiles) of ``expected``; empty bins count as a
    share of 1e-4. Below 0.1 is usually read as stable, above 0.25 as a shift.
    """
    edges = psi_edges(expected, n_bins)
    return psi_of_shares(bin_shares(expected, edges), bin_shares(actual, edges))


def drift_status(value: float, thresholds: DriftThresholds) -> str:
    """``severe`` at or above ``psi_severe``, ``warning`` at or above ``psi_warning``, else ``stable``.

    Examples
    --------
    >>> levels = DriftThresholds(psi_warning=0.1, psi_severe=0.25)
    >>> [drift_status(v, levels) for v in (0.05, 0.1, 0.25, float("nan"))]
    ['stable', 'warning', 'severe', 'no data']
    """
    if not np.isfinite(value):
        return NO_DATA
    if value >= thresholds.psi_severe:
        return SEVERE
    if value >= thresholds.psi_warning:
        return WARNING
    return STABLE


@dataclass(frozen=True)
class ReferenceBins:
    """One column of a reference window: PSI bin edges and shares of its present values, and its missing share.

    ``categories`` holds the sorted categories of a categorical column, whose values are
    binned as their positions in it (a category the reference never had counts as missing).
    """

    edges: np.ndarray
    shares: np.ndarray
    n: int
    missing: float
    categories: tuple[str, ...] | None = None

    @classmethod
    def fit(cls, values: pd.Series, n_bins: int = 10) -> ReferenceBins:
        categories = None
        if not is_numeric_dtype(values):
            categories = tuple(sorted(values.dropna().astype(str).unique()))
        reference = _numbers(values, categories)
        present = reference[~np.isnan(reference)]
        edges = psi_edges(present, n_bins) if len(present) else np.zeros(0)
        shares = bin_shares(present, edges) if len(present) else np.zeros(0)
        missing = 1 - len(present) / len(reference) if len(reference) else float("nan")
        return cls(edges, shares, len(reference), missing, categories)

    def compare(self, values: pd.Series, thresholds: DriftThresholds) -> dict[str, object]:
        """PSI of ``values`` against this reference, its status and both missing shares (a :data:`REPORT_COLUMNS` row)."""
        current = _numbers(values, self.categories)
        present = current[~np.isnan(current)]
        value = (
            psi_of_shares(self.shares, bin_shares(present, self.edges))
            if len(self.shares) and len(present)
            else float("nan")
        )
        return {
            "feature": str(values.name),
            "psi": value,
            "status": drift_status(value, thresholds),
            "n_reference": self.n,
            "n_current": len(current),
            "missing_reference": self.missing,
            "missing_current": 1 - len(present) / len(current) if len(current) else float("nan"),
        }


def _numbers(values: pd.Series, categories: tuple[str, ...] | None) -> np.ndarray:
    """Values as floats (NaN where missing); a categorical column as positions in ``categories``."""
    if categories is None:
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    found = pd.Index(categories).get_indexer(values.astype(str).where(values.notna())).astype(float)
    found[found < 0] = np.nan
    return found


class DriftMonitor(BaseEstimator):
    """The reference distribution of scores and features, kept as PSI bins, to measure later windows against.

    Parameters
    ----------
    columns : sequence of str or None
        Columns to keep; None keeps every column of the frame given to :meth:`fit`.
    n_bins : int
        PSI bins: the reference's ``n_bins`` quantiles.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        The columns kept, in order.
    reference_bins_ : dict of str to ReferenceBins
        Bin edges and shares of each column (a few hundred bytes each).
    n_reference_ : int
        Rows of the reference window.

    Examples
    --------
    >>> monitor = DriftMonitor(columns=["pd_12m"]).fit(pd.DataFrame({"pd_12m": np.linspace(0, 1, 100)}))
    >>> levels = DriftThresholds(psi_warning=0.1, psi_severe=0.25)
    >>> monitor.report(pd.DataFrame({"pd_12m": np.full(50, 0.95)}), levels)["status"].tolist()
    ['severe']
    """

    def __init__(self, columns: Sequence[str] | None = None, n_bins: int = 10) -> None:
        self.columns = columns
        self.n_bins = n_bins

    def fit(self, X: pd.DataFrame, y: object = None) -> DriftMonitor:
        """Keep the bins and shares of each column of the reference window ``X``."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"DriftMonitor.fit: X must be a pandas DataFrame; got {type(X).__name__}")
        if not isinstance(self.n_bins, int) or self.n_bins < 2:
            raise ValueError(f"DriftMonitor: n_bins must be an integer of at least 2; got {self.n_bins!r}")
        columns = list(X.columns if self.columns is None else self.columns)
        _require_columns(X, columns, "the reference window")
        self.feature_names_in_ = np.asarray(columns, dtype=object)
        self.reference_bins_ = {name: ReferenceBins.fit(X[name], self.n_bins) for name in columns}
        self.n_reference_ = len(X)
        return self

    def report(
        self, X: pd.DataFrame, thresholds: DriftThresholds, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """PSI of ``columns`` of ``X`` (every kept column by default) against the reference, largest first.

        Returns
        -------
        pd.DataFrame
            One row per column with :data:`REPORT_COLUMNS`.

        Raises
        ------
        KeyError
            When ``X`` lacks one of ``columns``, or the monitor does not keep it.
        """
        check_is_fitted(self, "reference_bins_")
        columns = list(self.reference_bins_ if columns is None else columns)
        unknown = sorted(name for name in columns if name not in self.reference_bins_)
        if unknown:
            raise KeyError(
                f"DriftMonitor: column(s) {unknown} have no reference; choose from {list(self.reference_bins_)}"
            )
        _require_columns(X, columns, "the current window")
        return _sorted_report([self.reference_bins_[name].compare(X[name], thresholds) for name in columns])


def _require_columns(X: pd.DataFrame, columns: Sequence[str], window: str) -> None:
    missing = sorted(name for name in columns if name not in X.columns)
    if missing:
        raise KeyError(f"DriftMonitor: column(s) {missing} are not in {window}; pass a frame that has them")


def _sorted_report(rows: list[dict[str, object]]) -> pd.DataFrame:
    report = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    return report.sort_values("psi", ascending=False, na_position="last", kind="stable").reset_index(
        drop=True
    )


def column_drift(
    reference: pd.Series, current: pd.Series, thresholds: DriftThresholds, n_bins: int = 10
) -> dict[str, object]:
    """PSI of one column between two windows, its status and the missing shares.

    The index compares the present values (bins at the reference's ``n_bins`` quantiles);
    the shares of missing values are reported beside it. Categories are compared through
    their codes, cut into the same quantile bins, so rare categories can share a bin.
    """
    return ReferenceBins.fit(reference, n_bins).compare(current.rename(reference.name), thresholds)


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    thresholds: DriftThresholds,
    columns: Sequence[str] | None = None,
    n_bins: int = 10,
) -> pd.DataFrame:
    """Population (score) and characteristic (feature) stability of ``columns`` from ``reference`` to ``current``.

    Parameters
    ----------
    reference, current
        One row per scored unit (customer, invoice) of each window, e.g. the development
        sample and the latest month; a score column (``pd_12m``) is compared like a feature.
    thresholds
        The policy's drift levels (``policy.drift``).
    columns
        Columns to compare; by default every column the two frames share.

    Returns
    -------
    pd.DataFrame
        One row per column with :data:`REPORT_COLUMNS`, the largest PSI first.

    Raises
    ------
    KeyError
        When a column of ``columns`` is absent from either window.
    """
    if columns is None:
        columns = [name for name in reference.columns if name in current.columns]
    missing = sorted({name for name in columns if name not in reference or name not in current})
    if missing:
        raise KeyError(
            f"drift_report: column(s) {missing} are not in both windows; pass columns both frames have"
        )
    return DriftMonitor(list(columns), n_bins).fit(reference).report(current, thresholds)
