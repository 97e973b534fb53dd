"""Headline rates of a ledger, used to check that the synthetic sample looks like real receivables.

These are sanity measurements for the generator (tests, benchmark, ``docs/sample-data.md``), not
model labels; the training labels live in :mod:`riskmodel.labels`. The default definition
follows DESIGN.md: an invoice 90+ days past due unpaid, a write-off, a bankruptcy or a legal action.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

_DEFAULT_EVENTS = ("bankruptcy", "legal_action", "write_off")
_LATE_90 = pd.Timedelta(days=90)


def observed_default_dates(tables: dict[str, pd.DataFrame], end: date) -> pd.Series:
    """First observable default date per customer (customers that never default are absent).

    Parameters
    ----------
    tables : dict[str, pd.DataFrame]
        Ledger tables as returned by :func:`riskmodel.sample.make_sample_tables`.
    end : date
        Data end (exclusive): an invoice counts as 90+ days past due only if it was still unpaid
        90 days after due and that day is before ``end``.

    Returns
    -------
    pd.Series
        Default date indexed by ``customer_id``.
    """
    inv = tables["invoices"]
    end_ts = pd.Timestamp(end)
    mark = inv["due_date"] + _LATE_90
    closed = inv["settled_date"].fillna(inv["written_off_date"])
    overdue_90 = (mark < end_ts) & ~(closed <= mark)
    candidates = [
        pd.DataFrame({"customer_id": inv.loc[overdue_90, "customer_id"], "date": mark[overdue_90]}),
        pd.DataFrame(
            {
                "customer_id": inv.loc[inv["written_off_date"].notna(), "customer_id"],
                "date": inv["written_off_date"].dropna(),
            }
        ),
    ]
    events = tables["events"]
    candidates.append(events.loc[events["type"].isin(_DEFAULT_EVENTS), ["customer_id", "date"]])
    return pd.concat(candidates).groupby("customer_id")["date"].min()


def annual_default_rates(tables: dict[str, pd.DataFrame], start: date, months: int) -> pd.Series:
    """Share of active customers defaulting within 12 months, per monthly snapshot.

    A customer is active at a snapshot when it is not yet in default and issued an invoice in
    the 6 months before it; snapshots run from ``start`` + 6 months to the data end − 12 months.
    """
    end = (pd.Timestamp(start) + pd.DateOffset(months=months)).date()
    defaults = observed_default_dates(tables, end)
    inv = tables["invoices"][["customer_id", "issue_date"]]
    rates = {}
    for k in range(6, months - 11):
        snap = pd.Timestamp(start) + pd.DateOffset(months=k)
        recent = inv.loc[(inv["issue_date"] <= snap) & (inv["issue_date"] > snap - pd.DateOffset(months=6))]
        active = pd.Index(recent["customer_id"].unique())
        default_day = defaults.reindex(active)
        at_risk = ~(default_day <= snap)
        horizon = snap + pd.DateOffset(months=12)
        rates[snap] = float(((default_day > snap) & (default_day <= horizon))[at_risk].mean())
    return pd.Series(rates, name="default_rate_12m")


def measure_sample_rates(tables: dict[str, pd.DataFrame], start: date, months: int) -> dict[str, float]:
    """Headline rates: default, lateness, disputes and partial payments.

    Returns
    -------
    dict[str, float]
        ``default_rate_12m`` (mean over snapshots, with ``_min``/``_max``), ``late_share``,
        ``late_30_share`` (of settled invoices, days beyond terms > 0 and > 30),
        ``late_90_or_written_off_share`` (of invoices whose due date + 90 days is before the end:
        not settled within 90 days of due), ``dispute_share``, ``partial_payment_share`` and
        ``written_off_share`` (of all invoices).
    """
    end = pd.Timestamp(start) + pd.DateOffset(months=months)
    inv = tables["invoices"]
    settled = inv["settled_date"].notna()
    days_beyond = (inv.loc[settled, "settled_date"] - inv.loc[settled, "due_date"]).dt.days
    mark = inv["due_date"] + _LATE_90
    observable = mark < end
    late_90 = ~(inv["settled_date"] <= mark)
    payments_per_invoice = tables["payments"]["invoice_id"].value_counts()
    defaults = annual_default_rates(tables, start, months)
    return {
        "default_rate_12m": float(defaults.mean()),
        "default_rate_12m_min": float(defaults.min()),
        "default_rate_12m_max": float(defaults.max()),
        "late_share": float((days_beyond > 0).mean()),
        "late_30_share": float((days_beyond > 30).mean()),
        "late_90_or_written_off_share": float(late_90[observable].mean()),
        "dispute_share": float(inv["dispute_date"].notna().mean()),
        "partial_payment_share": float((payments_per_invoice > 1).sum() / len(inv)),
        "written_off_share": float(inv["written_off_date"].notna().mean()),
        "mean_days_beyond_terms": float(np.mean(days_beyond)),
    }
