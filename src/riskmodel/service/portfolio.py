"""Portfolio overview for the console: grade distribution, exposure by grade and the most severe alerts."""

from __future__ import annotations

from typing import Any

import pandas as pd

from riskmodel.jsonable import to_jsonable
from riskmodel.portfolio import TOTAL, exposure_by_grade
from riskmodel.scoring import CustomerScores


def portfolio_summary(result: CustomerScores, top_alerts: int) -> dict[str, Any]:
    """Counts, exposure and limits per grade (all grades 1-10, empty ones included) and the top alerts.

    Alerts are ranked by severity, then by the customer's PD, so the first ones need action first.
    """
    scores = result.scores
    n = len(scores)
    exposure = exposure_by_grade(result)
    grades = [
        {
            "grade": int(row.grade),
            "n_customers": int(row.n_customers),
            "share": float(row.share),
            "open_balance": float(row.open_balance),
            "current_limit": float(row.current_limit),
            "recommended_limit": float(row.recommended_limit),
        }
        for row in exposure[exposure["grade"] != TOTAL].itertuples()
    ]
    alerts = result.alerts.open.merge(scores[["customer_id", "pd_12m"]], on="customer_id", how="left")
    alerts = alerts.sort_values(["severity_level", "pd_12m"], ascending=[False, False], kind="stable")
    severities = alerts["severity"].value_counts()
    return to_jsonable(
        {
            "as_of": result.as_of,
            "n_customers": n,
            "mean_pd_12m": float(scores["pd_12m"].mean()) if n else None,
            "open_balance": float(exposure.loc[exposure["grade"] == TOTAL, "open_balance"].iloc[0]),
            "grades": grades,
            "alerts_by_severity": {str(k): int(v) for k, v in severities.items()},
            "n_alerts": len(alerts),
            "top_alerts": _records(alerts.drop(columns="pd_12m").head(top_alerts)),
        }
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]
