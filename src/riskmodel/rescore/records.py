"""The rows a rescoring writes to the results database: the scores of a chunk."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from riskmodel.scoring import CustomerScores, ModelBundle


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
