"""Inline histories (what-if scoring): request rows into a ledger checked by the ledger's own rules."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel

from riskmodel.exceptions import LedgerError
from riskmodel.ledger import Ledger, ledger_from_frames
from riskmodel.service.errors import ApiError
from riskmodel.service.schemas import CustomerRow, EventRow, History, InvoiceRow, PaymentRow

ROW_MODELS: dict[str, type[BaseModel]] = {
    "customers": CustomerRow,
    "invoices": InvoiceRow,
    "payments": PaymentRow,
    "events": EventRow,
}
MAX_LISTED = 20


def history_ledger(history: History) -> Ledger:
    """The inline tables as a validated :class:`Ledger`.

    Raises
    ------
    ApiError
        422 naming each rejected row (``history.invoices[3].due_date``) and the rule it broke;
        the whole history is refused when any row is, since a what-if on part of it would mislead.
    """
    frames = {}
    for name, model in ROW_MODELS.items():
        rows = getattr(history, name)
        if rows is not None:
            frames[name] = pd.DataFrame(
                [row.model_dump(include=set(model.model_fields)) for row in rows],
                columns=list(model.model_fields),
            )
    try:
        ledger = ledger_from_frames(frames, source="request history")
    except LedgerError as err:
        raise ApiError(422, f"history: {err}", [{"field": "history", "message": str(err)}]) from None
    rejected = ledger.report.rejected_rows()
    if len(rejected):
        detail = [
            {"field": _row_field(r.file, int(r.row), str(r.column)), "message": str(r.reason)}
            for r in rejected.head(MAX_LISTED).itertuples()
        ]
        raise ApiError(
            422,
            f"history: {len(rejected)} row(s) break the ledger rules (first: {detail[0]['field']}: "
            f"{detail[0]['message']}); fix them and send the history again",
            detail,
        )
    return ledger


def _row_field(table: str, row: int, columns: str) -> str:
    """Path of a rejected row (rows are numbered from 1), down to the column when only one broke a rule."""
    path = f"history.{table}[{row - 1}]"
    return f"{path}.{columns}" if columns and ";" not in columns else path
