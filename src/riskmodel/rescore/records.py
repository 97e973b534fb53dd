"""The rows a rescoring writes to the results database: scores of a chunk and alert changes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.policy import AlertUpdate
from riskmodel.scoring import CustomerScores, ModelBundle

OPENED_COLUMNS: Sequence[str] = ("customer_id", "alert_type", "key", "severity", "facts", "action", "text")


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
            "basis": frame["basis"].to_numpy(),
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
