"""What the credit policy does to a scored portfolio: limits granted, exposure by grade, alerts raised."""

from __future__ import annotations

import pandas as pd

from riskmodel.scoring import CustomerScores


def performing_scores(result: CustomerScores) -> pd.DataFrame:
    """Features and ``pd_12m`` of the customers not in default, the population the default model is developed on.

    Customers already in default get ``pd_12m`` 1 from the scoring path; the training table
    leaves them out, so drift against the development sample compares the rest.
    """
    scored = result.features.assign(pd_12m=result.scores["pd_12m"].to_numpy())
    if "in_default" not in result.scores:
        return scored.reset_index(drop=True)
    return scored[~result.scores["in_default"].to_numpy(dtype=bool)].reset_index(drop=True)


def exposure_by_grade(result: CustomerScores) -> pd.DataFrame:
    """Customers, open balance, current and recommended limits by grade, and the change in total limits.

    Returns
    -------
    pd.DataFrame
        ``grade, customers, open_balance, current_limit, recommended_limit, limit_change`` with a
        last row ``all``.
    """
    frame = result.scores[["customer_id", "grade", "current_limit", "recommended_limit"]].assign(
        open_balance=result.features["open_balance"].to_numpy()
    )
    table = (
        frame.groupby("grade")
        .agg(
            customers=("customer_id", "size"),
            open_balance=("open_balance", "sum"),
            current_limit=("current_limit", "sum"),
            recommended_limit=("recommended_limit", "sum"),
        )
        .reset_index()
    )
    total = table.drop(columns="grade").sum().to_frame().T.assign(grade="all")
    table = pd.concat([table.astype({"grade": object}), total], ignore_index=True)
    table["limit_change"] = table["recommended_limit"] - table["current_limit"]
    return table


def limit_actions(result: CustomerScores) -> pd.DataFrame:
    """Customers and limits by the rule that set the recommended limit (target, step cap, cut, freeze, ...)."""
    scores = result.scores
    table = (
        scores.groupby("limit_rule")
        .agg(
            customers=("customer_id", "size"),
            current_limit=("current_limit", "sum"),
            recommended_limit=("recommended_limit", "sum"),
        )
        .sort_values("customers", ascending=False)
        .reset_index()
    )
    table["share_of_customers"] = table["customers"] / max(len(scores), 1)
    return table


def alert_summary(result: CustomerScores) -> pd.DataFrame:
    """Open alerts by type and severity (most severe first): how many, on how many customers, how many new."""
    alerts = result.alerts.open
    if alerts.empty:
        return pd.DataFrame(columns=["alert_type", "severity", "alerts", "customers", "new"])
    table = (
        alerts.assign(is_new=alerts["status"] == "new")
        .groupby(["alert_type", "severity", "severity_level"])
        .agg(alerts=("customer_id", "size"), customers=("customer_id", "nunique"), new=("is_new", "sum"))
        .reset_index()
        .sort_values(["severity_level", "alerts"], ascending=False, kind="stable")
    )
    return table.drop(columns="severity_level").reset_index(drop=True)
