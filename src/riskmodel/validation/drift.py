"""Drift monitoring: stability of scores and features between a reference window and a current one.

The index is :func:`riskmodel.models.metrics.psi` (bins at the deciles of the reference); the
warning and severe levels come from the credit policy (``drift.psi_warning`` and
``drift.psi_severe``). The validation report and batch rescoring both call :func:`drift_report`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from riskmodel.models.metrics import psi
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


def _as_numbers(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Both windows as floats; a categorical column becomes the codes of the reference's categories.

    Missing values, and categories the reference never had, become NaN.
    """
    if is_numeric_dtype(reference) and is_numeric_dtype(current):
        return (
            reference.to_numpy(dtype=float, na_value=np.nan),
            current.to_numpy(dtype=float, na_value=np.nan),
        )
    categories = pd.Index(sorted(reference.dropna().astype(str).unique()))

    def codes(values: pd.Series) -> np.ndarray:
        found = categories.get_indexer(values.astype(str).where(values.notna())).astype(float)
        found[found < 0] = np.nan
        return found

    return codes(reference), codes(current)


def column_drift(
    reference: pd.Series, current: pd.Series, thresholds: DriftThresholds, n_bins: int = 10
) -> dict[str, object]:
    """PSI of one column between two windows, its status and the missing shares.

    The index compares the present values (bins at the reference's ``n_bins`` quantiles);
    the shares of missing values are reported beside it. Categories are compared through
    their codes, cut into the same quantile bins, so rare categories can share a bin.
    """
    ref, cur = _as_numbers(reference, current)
    ref_present, cur_present = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    value = psi(ref_present, cur_present, n_bins) if len(ref_present) and len(cur_present) else float("nan")
    return {
        "feature": str(reference.name),
        "psi": value,
        "status": drift_status(value, thresholds),
        "n_reference": len(ref),
        "n_current": len(cur),
        "missing_reference": 1 - len(ref_present) / len(ref) if len(ref) else float("nan"),
        "missing_current": 1 - len(cur_present) / len(cur) if len(cur) else float("nan"),
    }


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
    rows = [column_drift(reference[name], current[name], thresholds, n_bins) for name in columns]
    report = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    return report.sort_values("psi", ascending=False, na_position="last", kind="stable").reset_index(
        drop=True
    )
