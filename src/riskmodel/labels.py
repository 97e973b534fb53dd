"""Targets of the three models (DESIGN.md "Targets"), with censoring at the end of the data.

Every function takes ``data_end``: the last day whose outcomes are known. Training at
``--as-of D`` truncates the ledger at D and uses ``data_end = D``, so labels never use
outcomes observed after the training date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow.compute as pc

from riskmodel.ledger.tables import Ledger

LATE_THRESHOLDS_DAYS: tuple[int, ...] = (0, 30, 60, 90)
DEFAULT_DPD = 90
DEFAULT_EVENT_TYPES: tuple[str, ...] = ("bankruptcy", "legal_action", "write_off")


def default_dates(ledger: Ledger, data_end: date) -> pd.Series:
    """First default date of each customer known by ``data_end`` (customers without one are absent).

    Default is the first of: an undisputed invoice still unpaid when it passes 90 days
    past due (dated the day it becomes 91 days past due), an invoice written off, or a
    bankruptcy, legal-action or write-off event. Invoices disputed before reaching 90
    days past due are left out: a dispute delays payment but is not inability to pay.
    """
    con = duckdb.connect()
    try:
        con.register("invoices", ledger.invoices)
        con.register("events", ledger.events)
        event_types = ", ".join(f"'{t}'" for t in DEFAULT_EVENT_TYPES)
        frame = con.execute(
            f"""
            WITH triggers AS (
                SELECT customer_id, due_date + {DEFAULT_DPD + 1} AS default_date FROM invoices
                WHERE due_date + {DEFAULT_DPD + 1} <= $end
                  AND coalesce(settled_date > due_date + {DEFAULT_DPD}, true)
                  AND coalesce(written_off_date > due_date + {DEFAULT_DPD}, true)
                  AND coalesce(dispute_date > due_date + {DEFAULT_DPD}, true)
                UNION ALL
                SELECT customer_id, written_off_date FROM invoices WHERE written_off_date <= $end
                UNION ALL
                SELECT customer_id, date FROM events WHERE type IN ({event_types}) AND date <= $end
            )
            SELECT customer_id, min(default_date) AS default_date FROM triggers GROUP BY customer_id
            """,
            {"end": data_end},
        ).df()
    finally:
        con.close()
    return pd.Series(
        pd.to_datetime(frame["default_date"]).to_numpy(),
        index=frame["customer_id"].to_numpy(),
        name="default_date",
    )


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months (month-end safe)."""
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


def make_default_labels(
    ledger: Ledger, snapshots: pd.DataFrame, data_end: date, horizon_months: int = 12
) -> pd.DataFrame:
    """``label_default_12m`` for (customer_id, as_of) snapshots.

    Returns
    -------
    pd.DataFrame
        The snapshots that can be labelled, with ``label_default_12m`` in {0, 1}.
        Customers already in default at ``as_of`` are left out, and so are snapshots whose
        horizon runs past ``data_end`` without a default (censored).
    """
    defaults = default_dates(ledger, data_end)
    frame = snapshots[["customer_id", "as_of"]].copy()
    as_of = pd.to_datetime(frame["as_of"])
    default_on = pd.to_datetime(frame["customer_id"].map(defaults.to_dict()))
    horizon_end = as_of + pd.DateOffset(months=horizon_months)
    already = default_on.notna() & (default_on <= as_of)
    within = default_on.notna() & (default_on > as_of) & (default_on <= horizon_end)
    observed = horizon_end <= pd.Timestamp(data_end)
    keep = ~already & (within | observed)
    frame["label_default_12m"] = within.astype("int64")
    return frame.loc[keep].reset_index(drop=True)


def make_late_payment_labels(
    ledger: Ledger, data_end: date, thresholds: Iterable[int] = LATE_THRESHOLDS_DAYS
) -> pd.DataFrame:
    """Per invoice issued by ``data_end``: ``label_late_<k>`` = days beyond terms > k, NaN when not yet known.

    A settled invoice is labelled by its days beyond terms; a written-off one is late
    beyond every threshold; an open one is late beyond k once it is more than k days past
    due at ``data_end``, and censored (NaN) for the thresholds it cannot decide yet.
    ``days_beyond_terms`` is set for settled invoices only.
    """
    invoices = ledger.frame("invoices")
    end = pd.Timestamp(data_end)
    invoices = invoices[invoices["issue_date"] <= end]
    settled = invoices["settled_date"].notna() & (invoices["settled_date"] <= end)
    written_off = invoices["written_off_date"].notna() & (invoices["written_off_date"] <= end) & ~settled
    days_beyond = (invoices["settled_date"] - invoices["due_date"]).dt.days.where(settled)
    past_due_now = (end - invoices["due_date"]).dt.days
    frame = pd.DataFrame(
        {"invoice_id": invoices["invoice_id"].to_numpy(), "days_beyond_terms": days_beyond.to_numpy()}
    )
    for k in thresholds:
        label = np.where(settled, days_beyond > k, np.where(written_off | (past_due_now > k), 1.0, np.nan))
        frame[f"label_late_{k}"] = label.astype("float64")
    return frame


def make_onboarding_labels(ledger: Ledger, data_end: date, horizon_months: int = 12) -> pd.DataFrame:
    """``label_default_12m`` at onboarding: default within the horizon after onboarding_date.

    Customers whose horizon runs past ``data_end`` without a default are left out, and so
    are customers onboarded before the ledger's first invoice: their first months are not
    in the ledger, so a default then could not be seen.
    """
    customers = ledger.frame("customers")[["customer_id", "onboarding_date"]]
    first_issue = pc.min(ledger.invoices["issue_date"]).as_py()
    if first_issue is None:
        return pd.DataFrame(columns=["customer_id", "onboarding_date", "label_default_12m"])
    observed = (customers["onboarding_date"] >= pd.Timestamp(first_issue)) & (
        customers["onboarding_date"] <= pd.Timestamp(data_end)
    )
    customers = customers[observed]
    snapshots = customers.rename(columns={"onboarding_date": "as_of"})
    snapshots["as_of"] = snapshots["as_of"] - timedelta(days=1)  # nobody is in default before onboarding
    labels = make_default_labels(ledger, snapshots, data_end, horizon_months)
    labels["as_of"] = labels["as_of"] + timedelta(days=1)
    return labels.rename(columns={"as_of": "onboarding_date"})
