"""Invoice features at issue: the customer's features as of the day before, plus the invoice's own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.features.definitions import FeatureConfig
from riskmodel.features.engine import run_feature_query
from riskmodel.ledger.tables import Ledger


def invoice_snapshots(
    ledger: Ledger, as_of: date | None = None, invoice_ids: Iterable[str] | None = None
) -> pa.Table:
    """One snapshot per invoice issued on or before ``as_of`` (all when None), dated the day before issue.

    ``invoice_ids`` limits the snapshots to those invoices (e.g. the open ones being scored).
    """
    invoices = ledger.invoices
    if invoice_ids is not None:
        invoices = invoices.filter(
            pc.is_in(invoices["invoice_id"], value_set=pa.array(list(invoice_ids), pa.string()))
        )
    if as_of is not None:
        invoices = invoices.filter(pc.less_equal(invoices["issue_date"], pa.scalar(as_of, pa.date32())))
    issue = invoices["issue_date"]
    as_of_day = pc.subtract(issue.cast(pa.int32()), pa.scalar(1, pa.int32())).cast(pa.date32())
    terms = pc.subtract(invoices["due_date"].cast(pa.int32()), issue.cast(pa.int32())).cast(pa.int64())
    return pa.table(
        {
            "snapshot_id": pa.array(range(invoices.num_rows), pa.int64()),
            "invoice_id": invoices["invoice_id"],
            "customer_id": invoices["customer_id"],
            "issue_date": issue,
            "as_of": as_of_day,
            "invoice_amount": invoices["amount"],
            "invoice_terms_days": terms,
            "invoice_issue_month": pc.month(issue).cast(pa.int64()),
        }
    )


def invoice_features(
    ledger: Ledger,
    as_of: date | None = None,
    config: FeatureConfig | None = None,
    invoice_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Features of each invoice issued on or before ``as_of``, each as of its own issue date.

    Keyed by ``invoice_id``; the customer part is computed as of the day before issue, so
    an invoice never sees itself or anything issued, paid or disputed on its issue day.
    """
    snapshots = invoice_snapshots(ledger, as_of, invoice_ids)
    frame = run_feature_query(ledger, snapshots, "invoice", config)
    # snapshot_id is the row number of ``snapshots`` and the query returns rows in its order: add the keys in place.
    if not np.array_equal(frame["snapshot_id"].to_numpy(), np.arange(snapshots.num_rows)):
        raise AssertionError("the feature query must return one row per snapshot, in snapshot order")
    frame = frame.drop(columns=["snapshot_id", "as_of"])
    frame.insert(0, "issue_date", snapshots["issue_date"].to_pandas(date_as_object=False))
    frame.insert(0, "invoice_id", snapshots["invoice_id"].to_pandas())
    return frame
