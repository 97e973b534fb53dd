"""Portfolio overview for the console: grade distribution, exposure by grade and the most severe alerts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskmodel.jsonable import to_jsonable
from riskmodel.policy.config import N_GRADES
from riskmodel.scoring import CustomerScores


def portfolio_summary(result: CustomerScores, top_alerts: int) -> dict[str, Any]:
    """Counts, exposure and limits per grade (all grades 1-10, empty ones included) and the top alerts.

    Alerts are ranked by severity, then by the customer's PD, so the first ones need action first.
    """
    scores = result.scores.assign(open_balance=result.features["open_balance"].fillna(0.0).to_numpy())
    n = len(scores)
    by_grade = scores.groupby("grade").agg(
        n_customers=("customer_id", "size"),
        open_balance=("open_balance", "sum"),
        current_limit=("current_limit", "sum"),
        recommended_limit=("recommended_limit", "sum"),
    )
    by_grade = by_grade.reindex(range(1, N_GRADES + 1), fill_value=0)
    grades = [
        {
            "grade": int(grade),
            "n_customers": int(row.n_customers),
            "share": float(row.n_customers / n) if n else 0.0,
            "open_balance": float(row.open_balance),
            "current_limit": float(row.current_limit),
            "recommended_limit": float(row.recommended_limit),
        }
        for grade, row in by_grade.iterrows()
    ]
    alerts = result.alerts.open.merge(scores[["customer_id", "pd_12m"]], on="customer_id", how="left")
    alerts = alerts.sort_values(["severity_level", "pd_12m"], ascending=[False, False], kind="stable")
    severities = alerts["severity"].value_counts()
    return to_jsonable(
        {
            "as_of": result.as_of,
            "n_customers": n,
            "mean_pd_12m": float(scores["pd_12m"].mean()) if n else None,
            "open_balance": float(np.nansum(scores["open_balance"])),
            "grades": grades,
            "alerts_by_severity": {str(k): int(v) for k, v in severities.items()},
            "n_alerts": len(alerts),
            "top_alerts": _records(alerts.drop(columns="pd_12m").head(top_alerts)),
        }
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]
