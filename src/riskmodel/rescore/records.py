"""What a rescoring reads from and writes to the results database, beyond :class:`ResultsStore`'s own calls."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from riskmodel.policy import AlertUpdate
from riskmodel.scoring import CustomerScores, ModelBundle
from riskmodel.store import ResultsStore, alerts, runs, scores

SLIM_SCORE_COLUMNS = ("customer_id", "pd_12m", "grade", "current_limit", "recommended_limit")
OPENED_COLUMNS: Sequence[str] = ("customer_id", "alert_type", "key", "severity", "facts", "action", "text")


def find_run(store: ResultsStore, as_of: date, model_version: str) -> dict[str, Any] | None:
    """The run record of ``(as_of, model_version)``, or None when there is none yet."""
    query = sa.select(runs).where(runs.c.as_of == as_of, runs.c.model_version == model_version)
    with store.engine.connect() as con:
        row = con.execute(query).mappings().first()
    return dict(row) if row else None


def run_scores(store: ResultsStore, run: dict[str, Any] | None) -> pd.DataFrame:
    """``SLIM_SCORE_COLUMNS`` of a run's scores, sorted by customer (empty without a run)."""
    columns = [scores.c[name] for name in SLIM_SCORE_COLUMNS]
    if run is None:
        return pd.DataFrame(
            {name: pd.Series(dtype=object if name == "customer_id" else float) for name in SLIM_SCORE_COLUMNS}
        )
    query = (
        sa.select(*columns)
        .where(scores.c.as_of == run["as_of"], scores.c.model_version == run["model_version"])
        .order_by(scores.c.customer_id)
    )
    with store.engine.connect() as con:
        return pd.read_sql(query, con)


def export_scores(store: ResultsStore, as_of: date, model_version: str) -> pd.DataFrame:
    """Every stored column of the scores of ``(as_of, model_version)``, sorted by customer."""
    query = (
        sa.select(scores)
        .where(scores.c.as_of == as_of, scores.c.model_version == model_version)
        .order_by(scores.c.customer_id)
    )
    with store.engine.connect() as con:
        return pd.read_sql(query, con)


def alerts_closed_in(store: ResultsStore, run_id: str) -> pd.DataFrame:
    with store.engine.connect() as con:
        return pd.read_sql(sa.select(alerts).where(alerts.c.closed_run_id == run_id), con)


def score_rows(result: CustomerScores, bundle: ModelBundle, run_id: str) -> pd.DataFrame:
    """The ``scores`` rows of a chunk: ``limit_rationale`` a JSON object with the rule and the text, ``reasons`` a JSON list."""
    frame = result.scores
    rationale = [
        json.dumps({"rule": rule, "text": text}, ensure_ascii=False)
        for rule, text in zip(frame["limit_rule"].tolist(), frame["limit_rationale"].tolist(), strict=True)
    ]
    frame = pd.DataFrame(
        {
            "as_of": result.as_of,
            "customer_id": frame["customer_id"].to_numpy(),
            "model_version": bundle.model_version,
            "run_id": run_id,
            "pd_12m": frame["pd_12m"].to_numpy(dtype=float),
            "grade": frame["grade"].to_numpy(dtype=np.int64),
            "current_limit": frame["current_limit"].to_numpy(dtype=float),
            "recommended_limit": frame["recommended_limit"].to_numpy(dtype=float),
            "limit_rationale": rationale,
            "reasons": [json.dumps(r, ensure_ascii=False) for r in frame["reasons"].tolist()],
            "policy_version": bundle.policy.version,
        }
    )
    return frame.astype(
        object
    )  # Python values: the store turns rows into dicts, slowly for Arrow-backed text


def alert_changes(
    update: AlertUpdate, as_of: date, run_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Alerts to open (the new ones) and alerts to close, as :meth:`ResultsStore.commit_chunk` takes them."""
    opened = [
        {**row, "opened_as_of": as_of, "opened_run_id": run_id}
        for row in update.new[list(OPENED_COLUMNS)].astype(object).to_dict("records")
    ]
    closed = [
        {**row, "key": str(row["key"]), "closed_as_of": as_of, "closed_run_id": run_id}
        for row in update.closed[["customer_id", "alert_type", "key"]].astype(object).to_dict("records")
    ]
    return opened, closed
