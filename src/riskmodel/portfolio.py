"""Portfolio tables of a scoring: grade distribution, exposure by grade, grade migration, limits and alerts.

Computed once here for every reader: the service's ``/portfolio`` answer, the end
summary of batch rescoring and the validation report. Grades are the integers 1 (best)
to 10 (worst) of the master scale; every table lists all ten, empty ones included.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskmodel.policy.config import N_GRADES
from riskmodel.scoring import CustomerScores

GRADES: tuple[int, ...] = tuple(range(1, N_GRADES + 1))
TOTAL = "all"  # the total row of the exposure table
NEW = "new"  # migration row: not graded at the earlier date
NOT_SCORED = "not scored"  # migration column: graded earlier, not at the later date
EXPOSURE_COLUMNS = (
    "grade",
    "n_customers",
    "share",
    "open_balance",
    "current_limit",
    "recommended_limit",
    "limit_change",
)


def grade_distribution(grades: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Share of rows in each grade for several windows (columns named by the windows), grades 1..10 as rows.

    Examples
    --------
    >>> grade_distribution({"now": np.array([1, 1, 2, 10])}).loc[[1, 2, 3], "now"].tolist()
    [0.5, 0.25, 0.0]
    """
    shares = {
        window: np.bincount(np.asarray(values, dtype=int), minlength=N_GRADES + 1)[1 : N_GRADES + 1]
        / max(len(values), 1)
        for window, values in grades.items()
    }
    return pd.DataFrame(shares, index=pd.RangeIndex(1, N_GRADES + 1, name="grade"))


def exposure_by_grade(result: CustomerScores) -> pd.DataFrame:
    """Customers, their share, open balance, current and recommended limits by grade, and the change in limits.

    Returns
    -------
    pd.DataFrame
        :data:`EXPOSURE_COLUMNS`, one row per grade 1..10 (empty grades hold zeros) and a last
        row ``all``. Amounts are sums in the ledger's currency; a missing open balance counts 0.
    """
    frame = result.scores[["customer_id", "grade", "current_limit", "recommended_limit"]].assign(
        open_balance=result.features["open_balance"].fillna(0.0).to_numpy()
    )
    table = (
        frame.groupby("grade")
        .agg(
            n_customers=("customer_id", "size"),
            open_balance=("open_balance", "sum"),
            current_limit=("current_limit", "sum"),
            recommended_limit=("recommended_limit", "sum"),
        )
        .reindex(GRADES, fill_value=0)
    )
    table.loc[TOTAL] = table.sum()
    table = table.rename_axis("grade").reset_index()
    table["n_customers"] = table["n_customers"].astype(int)
    table["share"] = table["n_customers"] / len(frame) if len(frame) else 0.0
    table["limit_change"] = table["recommended_limit"] - table["current_limit"]
    return table[list(EXPOSURE_COLUMNS)]


def migration_matrix(previous: pd.DataFrame, current: pd.DataFrame, key: str = "customer_id") -> pd.DataFrame:
    """Customers by earlier grade (rows) and later grade (columns).

    Both frames hold ``key`` and ``grade``. Customers graded only later fall in row
    ``new``; customers graded only earlier (inactive, left, not scored) in column ``not scored``.

    Returns
    -------
    pd.DataFrame
        Counts of shape (11, 11): rows 1..10 and ``new`` (``previous grade``), columns 1..10 and
        ``not scored`` (``grade``).
    """
    both = previous[[key, "grade"]].merge(
        current[[key, "grade"]], on=key, how="outer", suffixes=("_before", "_now")
    )
    rows, columns = [*GRADES, NEW], [*GRADES, NOT_SCORED]
    before = pd.Categorical(_labels(both["grade_before"], NEW), categories=rows)
    now = pd.Categorical(_labels(both["grade_now"], NOT_SCORED), categories=columns)
    table = pd.crosstab(before, now, dropna=False).reindex(index=rows, columns=columns)
    table.index = pd.Index(rows, dtype=object, name="previous grade")
    table.columns = pd.Index(columns, dtype=object, name="grade")
    return table.fillna(0).astype(int)


def _labels(grades: pd.Series, missing: str) -> list[int | str]:
    return [missing if pd.isna(g) else int(g) for g in grades]


def migration_summary(matrix: pd.DataFrame) -> dict[str, float]:
    """Shares of the customers graded at both dates that kept their grade, improved or worsened, and the mean move.

    ``not_graded`` is the share of the customers graded at the earlier date that are not
    graded at the later one; new customers (row ``new``) are left out of every share.

    Examples
    --------
    >>> m = pd.DataFrame([[8, 2, 0], [1, 8, 1], [5, 0, 0]], index=[1, 2, "new"], columns=[1, 2, "not scored"])
    >>> migration_summary(m)["stable"]
    0.8421052631578947
    """
    earlier = matrix.drop(index=NEW, errors="ignore")
    graded = earlier.drop(columns=NOT_SCORED, errors="ignore")
    start = np.asarray(graded.index, dtype=float)[:, None]
    end = np.asarray(graded.columns, dtype=float)[None, :]
    counts = graded.to_numpy(dtype=float)
    total, everyone = counts.sum(), earlier.to_numpy(dtype=float).sum()
    share = (lambda mask: float(counts[mask].sum() / total)) if total else (lambda mask: float("nan"))
    return {
        "stable": share(start == end),
        "improved": share(end < start),
        "worsened": share(end > start),
        "mean_notches": float((counts * (end - start)).sum() / total) if total else float("nan"),
        "not_graded": float(1 - total / everyone) if everyone else float("nan"),
    }


def limit_actions(result: CustomerScores) -> pd.DataFrame:
    """Customers and limits by the rule that set the recommended limit (target, step cap, cut, freeze, ...)."""
    scores = result.scores
    table = (
        scores.groupby("limit_rule")
        .agg(
            n_customers=("customer_id", "size"),
            current_limit=("current_limit", "sum"),
            recommended_limit=("recommended_limit", "sum"),
        )
        .sort_values("n_customers", ascending=False)
        .reset_index()
    )
    table["share"] = table["n_customers"] / max(len(scores), 1)
    return table


def alert_summary(result: CustomerScores) -> pd.DataFrame:
    """Open alerts by type and severity (most severe first): how many, on how many customers, how many new."""
    alerts = result.alerts.open
    if alerts.empty:
        return pd.DataFrame(columns=["alert_type", "severity", "n_alerts", "n_customers", "n_new"])
    table = (
        alerts.assign(is_new=alerts["status"] == "new")
        .groupby(["alert_type", "severity", "severity_level"])
        .agg(
            n_alerts=("customer_id", "size"),
            n_customers=("customer_id", "nunique"),
            n_new=("is_new", "sum"),
        )
        .reset_index()
        .sort_values(["severity_level", "n_alerts"], ascending=False, kind="stable")
    )
    return table.drop(columns="severity_level").reset_index(drop=True)


def performing_scores(result: CustomerScores) -> pd.DataFrame:
    """Features and ``pd_12m`` of the customers not in default, the population the default model is developed on.

    Customers already in default get ``pd_12m`` 1 from the scoring path; the training table
    leaves them out, so drift against the development sample compares the rest.
    """
    scored = result.features.assign(pd_12m=result.scores["pd_12m"].to_numpy())
    if "in_default" not in result.scores:
        return scored.reset_index(drop=True)
    return scored[~result.scores["in_default"].to_numpy(dtype=bool)].reset_index(drop=True)
