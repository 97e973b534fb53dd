"""Export files of a run: customer scores (DESIGN.md columns plus reasons), open-invoice scores, rejected customers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.io import write_frame
from riskmodel.scoring import LATE_COLUMNS, OPEN_INVOICE_COLUMNS, PAYMENT_DATE_COLUMNS
from riskmodel.store import ResultsStore

REASON_SLOTS = 4
EXPORT_COLUMNS = (
    "customer_id",
    "as_of",
    "pd_12m",
    "grade",
    "recommended_limit",
    "current_limit",
    "limit_change",
    "limit_rule",
    "limit_rationale",
    *(f"reason_{k}" for k in range(1, REASON_SLOTS + 1)),
    "reasons",
    "basis",
    "model_version",
    "policy_version",
    "run_id",
)
INVOICE_EXPORT_COLUMNS = ("as_of", *OPEN_INVOICE_COLUMNS, *LATE_COLUMNS, *PAYMENT_DATE_COLUMNS)


def export_frame(store: ResultsStore, as_of: date, model_version: str) -> pd.DataFrame:
    """The stored scores of a run as the export table, one row per customer (``EXPORT_COLUMNS``).

    ``reason_1`` .. ``reason_4`` are the features behind the strongest risk-raising
    reasons (empty when fewer); ``reasons`` keeps every reason's value, contribution and
    description as JSON.
    """
    stored = store.export_scores(as_of, model_version)
    rationale = [json.loads(text) if text else {} for text in stored["limit_rationale"].tolist()]
    reasons = [json.loads(text) if text else [] for text in stored["reasons"].tolist()]
    frame = stored[["customer_id", "as_of", "pd_12m", "grade", "recommended_limit", "current_limit"]].copy()
    frame["limit_change"] = _limit_change(stored["current_limit"], stored["recommended_limit"])
    frame["limit_rule"] = [r.get("rule") for r in rationale]
    frame["limit_rationale"] = [r.get("text") for r in rationale]
    for k in range(REASON_SLOTS):
        frame[f"reason_{k + 1}"] = [r[k]["feature"] if len(r) > k else None for r in reasons]
    frame["reasons"] = stored["reasons"]
    for name in ("basis", "model_version", "policy_version", "run_id"):
        frame[name] = stored[name]
    return frame[list(EXPORT_COLUMNS)]


def _limit_change(current: pd.Series, recommended: pd.Series) -> np.ndarray:
    """``up``, ``down`` or ``unchanged`` against the current limit; ``new`` without one."""
    now, proposed = current.to_numpy(dtype=float), recommended.to_numpy(dtype=float)
    has_limit = ~np.isnan(now) & (now > 0)
    change = np.select([proposed > now, proposed < now], ["up", "down"], default="unchanged")
    return np.where(has_limit, change, "new").astype(object)


def sibling(out: str | Path, suffix: str, extension: str | None = None) -> Path:
    """``scores.parquet`` -> ``scores_open_invoices.parquet`` (``extension`` replaces the file type)."""
    out = Path(out)
    return out.with_name(f"{out.stem}_{suffix}{extension or out.suffix}")


def write_exports(
    store: ResultsStore,
    run: dict[str, Any],
    out: str | Path,
    invoices: pd.DataFrame | None,
    rejected: pd.DataFrame,
) -> list[Path]:
    """Write the customer scores to ``out`` and, beside it, open-invoice scores and rejected customers."""
    written = [write_frame(export_frame(store, run["as_of"], run["model_version"]), out)]
    if invoices is not None:
        table = invoices.assign(as_of=run["as_of"])[list(INVOICE_EXPORT_COLUMNS)]
        written.append(write_frame(table, sibling(out, "open_invoices")))
    if len(rejected):
        written.append(write_frame(rejected, sibling(out, "rejected_customers", ".csv")))
    return written
