"""The service's invoice-risk answer: which invoices to score, and their late-payment scores with the reasons of ``p_late``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from riskmodel.explain import reason_codes
from riskmodel.features.invoice import invoice_features
from riskmodel.jsonable import to_jsonable
from riskmodel.ledger import Ledger
from riskmodel.scoring import ModelBundle, open_invoices, score_open_invoices

INVOICE_COLUMNS = ("customer_id", "invoice_id", "issue_date", "due_date", "amount")


def customer_invoices(ledger: Ledger, as_of: date, invoice_ids: list[str] | None = None) -> pd.DataFrame:
    """Invoices of a one-customer ledger to score: the open ones at ``as_of``, or those named.

    Named invoices that are no longer open keep their amounts and get ``is_open`` false.
    """
    still_open = open_invoices(ledger, as_of).assign(is_open=True)
    if invoice_ids is None:
        return still_open
    named = ledger.frame("invoices")
    named = named.loc[named["invoice_id"].isin(invoice_ids), list(INVOICE_COLUMNS)]
    closed = named[~named["invoice_id"].isin(still_open["invoice_id"])].assign(is_open=False)
    frame = pd.concat([still_open[still_open["invoice_id"].isin(invoice_ids)], closed], ignore_index=True)
    frame["days_past_due"] = frame["days_past_due"].astype("Int64")  # whole days; null for closed invoices
    order = {invoice_id: i for i, invoice_id in enumerate(invoice_ids)}
    return frame.sort_values("invoice_id", key=lambda ids: ids.map(order), ignore_index=True)


def invoice_risk(
    bundle: ModelBundle, ledger: Ledger, invoices: pd.DataFrame, lang: str
) -> list[dict[str, Any]]:
    """Per invoice: P(days beyond terms > 0/30/60/90), expected payment date and reasons, scored as of its issue date.

    The probabilities come from :func:`riskmodel.scoring.score_open_invoices` (the path the
    ``/score`` response and batch rescoring use); the reasons explain ``p_late``. Both read
    the same invoice features, computed once. Without a late-payment model the invoices
    come with empty probabilities and no reasons.
    """
    model = bundle.late_payment
    if invoices.empty:
        return []
    if model is None:
        return [
            to_jsonable(r | {"reasons": []})
            for r in score_open_invoices(bundle, ledger, invoices).to_dict("records")
        ]
    features = invoice_features(ledger, config=model.feature_config, invoice_ids=invoices["invoice_id"])
    scored = score_open_invoices(bundle, ledger, invoices, features=features)
    contributions, _ = model.contributions(features, output="p_late")
    reasons = reason_codes(contributions, model.feature_names, features[model.feature_names], lang=lang)
    by_invoice = dict(zip(features["invoice_id"], reasons, strict=True))
    records = []
    for record in scored.to_dict("records"):
        record["reasons"] = by_invoice.get(record["invoice_id"], [])
        records.append(to_jsonable(record))
    return records
