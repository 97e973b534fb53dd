"""What a ledger holds, as a credit analyst reads it: volumes, aging, lateness, DSO, rates by segment, data quality.

Every measure reuses the feature, label and training-table code, so the numbers here are
the ones the models learn from.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from riskmodel.features.customer import customer_snapshots, snapshot_features
from riskmodel.features.definitions import FeatureConfig
from riskmodel.labels import make_late_payment_labels
from riskmodel.ledger.tables import Ledger, ValidationReport
from riskmodel.scoring import open_invoices
from riskmodel.training_tables import default_training_table, month_ends

AGING_BUCKETS = ("current", "1_30", "31_60", "61_90", "90_plus")
AGING_LABELS = dict(zip(AGING_BUCKETS, ("current", "1-30", "31-60", "61-90", "90+"), strict=True))
# EU SME turnover bands: micro up to 2M, small up to 10M, medium up to 50M, large above.
SIZE_EDGES = (2e6, 1e7, 5e7)
SIZE_BANDS = ("micro", "small", "medium", "large")
SEGMENTS = ("industry", "country", "size")


def monthly_volumes(ledger: Ledger) -> pd.DataFrame:
    """Invoices, invoiced amount and invoiced customers by issue month, with payments received in the month."""
    invoices = ledger.frame("invoices")
    payments = ledger.frame("payments")
    by_issue = invoices.groupby(invoices["issue_date"].dt.to_period("M")).agg(
        invoices=("invoice_id", "size"),
        invoiced_amount=("amount", "sum"),
        customers=("customer_id", "nunique"),
    )
    paid = payments.groupby(payments["payment_date"].dt.to_period("M"))["amount"].sum().rename("paid_amount")
    frame = by_issue.join(paid, how="outer").fillna(0).rename_axis("month").reset_index()
    frame["month"] = frame["month"].dt.to_timestamp()
    return frame


def size_band(annual_revenue: pd.Series) -> pd.Series:
    """EU SME band of each annual revenue (``unknown`` when missing).

    Examples
    --------
    >>> size_band(pd.Series([1e6, 2e6, 3e7, 6e7, None])).tolist()
    ['micro', 'micro', 'medium', 'large', 'unknown']
    """
    values = pd.to_numeric(annual_revenue, errors="coerce")
    bands = pd.Series(np.asarray(SIZE_BANDS, dtype=object)[np.searchsorted(SIZE_EDGES, values.fillna(0))])
    return bands.where(values.notna().to_numpy(), "unknown").set_axis(annual_revenue.index)


def aging_profile(ledger: Ledger, as_of: date) -> pd.DataFrame:
    """Open invoices at the end of ``as_of`` by days-past-due bucket: count, open amount, share, disputed amount."""
    invoices = open_invoices(ledger, as_of)
    bucket = pd.cut(
        invoices["days_past_due"], [-np.inf, 0, 30, 60, 90, np.inf], labels=list(AGING_LABELS.values())
    )
    frame = (
        invoices.assign(
            bucket=bucket, disputed_amount=invoices["open_amount"].where(invoices["is_disputed"], 0.0)
        )
        .groupby("bucket", observed=False)
        .agg(
            invoices=("invoice_id", "size"),
            open_amount=("open_amount", "sum"),
            disputed_amount=("disputed_amount", "sum"),
        )
        .reset_index()
    )
    total = frame["open_amount"].sum()
    frame["share"] = frame["open_amount"] / total if total else np.nan
    return frame


def portfolio_trend(ledger: Ledger, config: FeatureConfig | None = None) -> pd.DataFrame:
    """Month-end portfolio figures from the customer features: open balance, aging shares and DSO.

    DSO is the open balance over the amount invoiced in the last 90 days, times 90 (the
    ``dso_90d`` feature, summed over customers); it is left empty at month ends less than 90
    days after the first invoice, whose window is not full yet.
    """
    invoices = ledger.frame("invoices")
    end = ledger.data_end
    if invoices.empty or end is None:
        return pd.DataFrame(
            columns=["as_of", "customers", "open_balance", "dso", *[f"share_{b}" for b in AGING_BUCKETS]]
        )
    dates = month_ends(invoices["issue_date"].min().date(), end)
    features = snapshot_features(ledger, customer_snapshots(ledger, dates), config)
    amounts = ["open_balance", "invoiced_amount_90d", *[f"open_amount_{b}" for b in AGING_BUCKETS]]
    sums = features.groupby("as_of")[amounts].sum()
    frame = pd.DataFrame(
        {"customers": features.groupby("as_of")["customer_id"].size(), "open_balance": sums["open_balance"]}
    )
    frame["dso"] = 90 * sums["open_balance"] / sums["invoiced_amount_90d"].replace(0, np.nan)
    for b in AGING_BUCKETS:
        frame[f"share_{b}"] = sums[f"open_amount_{b}"] / sums["open_balance"].replace(0, np.nan)
    frame = frame.reset_index()
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    window_full = frame["as_of"] >= invoices["issue_date"].min() + pd.Timedelta(days=90)
    frame["dso"] = frame["dso"].where(window_full)
    return frame


def days_beyond_terms(ledger: Ledger) -> pd.Series:
    """Days beyond terms of every invoice settled by the ledger's end (negative = paid early)."""
    end = ledger.data_end
    if end is None:
        return pd.Series(dtype=float, name="days_beyond_terms")
    labels = make_late_payment_labels(ledger, end)
    return labels["days_beyond_terms"].dropna().reset_index(drop=True)


def _customer_segments(ledger: Ledger) -> pd.DataFrame:
    customers = ledger.frame("customers")
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"],
            "industry": customers["industry"].fillna("unknown"),
            "country": customers["country"].fillna("unknown"),
            "size": size_band(customers["annual_revenue"]),
        }
    )


def segment_rates(ledger: Ledger, horizon_months: int = 12) -> pd.DataFrame:
    """12-month default rate and late-payment rates by industry, country and size band.

    The default rate is over the customer-month snapshots of the default model's training
    table (active customers, horizon observed); late rates are over invoices whose outcome is
    known at the ledger's end (paid more than 0 / 30 days beyond terms, or written off).

    Returns
    -------
    pd.DataFrame
        ``segment_type, segment, customers, snapshots, default_rate, invoices, late_rate, late_30_rate``.
    """
    segments = _customer_segments(ledger)
    snapshots = default_training_table(ledger, horizon_months=horizon_months)[
        ["customer_id", "label_default_12m"]
    ]
    end = ledger.data_end
    late = (
        make_late_payment_labels(ledger, end)
        if end is not None
        else pd.DataFrame(columns=["invoice_id", "label_late_0", "label_late_30"])
    )
    late = late.merge(ledger.frame("invoices")[["invoice_id", "customer_id"]], on="invoice_id")
    snapshots = snapshots.merge(segments, on="customer_id")
    late = late.merge(segments, on="customer_id")
    parts = []
    for segment_type in SEGMENTS:
        defaults = snapshots.groupby(segment_type).agg(
            customers=("customer_id", "nunique"),
            snapshots=("customer_id", "size"),
            default_rate=("label_default_12m", "mean"),
        )
        lateness = late.groupby(segment_type).agg(
            invoices=("invoice_id", "size"),
            late_rate=("label_late_0", "mean"),
            late_30_rate=("label_late_30", "mean"),
        )
        part = defaults.join(lateness, how="outer").rename_axis("segment").reset_index()
        parts.append(part.assign(segment_type=segment_type))
    columns = [
        "segment_type",
        "segment",
        "customers",
        "snapshots",
        "default_rate",
        "invoices",
        "late_rate",
        "late_30_rate",
    ]
    return pd.concat(parts, ignore_index=True)[columns]


def data_quality(report: ValidationReport) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows read, accepted and rejected per file, and the rejected rows grouped by file and column.

    Returns
    -------
    tuple of pd.DataFrame
        ``table, file, read, accepted, rejected`` and ``file, column, rows, first_row, example_reason``.
    """
    counts = pd.DataFrame(
        [(t.table, t.file, t.read, t.accepted, t.rejected) for t in report.tables],
        columns=["table", "file", "read", "accepted", "rejected"],
    )
    rejected = report.rejected_rows()
    if rejected.empty:
        return counts, pd.DataFrame(columns=["file", "column", "rows", "first_row", "example_reason"])
    issues = (
        rejected.groupby(["file", "column"], dropna=False)
        .agg(rows=("row", "size"), first_row=("row", "min"), example_reason=("reason", "first"))
        .reset_index()
        .sort_values("rows", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    return counts, issues
