"""Hypothesis strategies: small random but valid ledgers with every kind of history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import strategies as st

START = dt.date(2022, 1, 1)
SPAN_DAYS = 730


@st.composite
def random_ledger_frames(
    draw: st.DrawFn, max_customers: int = 4, max_invoices: int = 30, with_history: bool = False
) -> dict[str, pd.DataFrame]:
    """customers/invoices/payments/events frames with partial payments, disputes, write-offs and open items.

    ``with_history`` adds a ``customer_history`` table: limit reviews, term changes and bureau
    scores dated on or after onboarding, with fields left empty in some rows.
    """
    n_customers = draw(st.integers(1, max_customers))
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n_customers)],
            "onboarding_date": [
                pd.Timestamp(START + dt.timedelta(days=draw(st.integers(0, 300)))) for _ in range(n_customers)
            ],
            "credit_limit": [draw(st.sampled_from([None, 0.0, 5000.0, 20000.0])) for _ in range(n_customers)],
            "payment_terms_days": [draw(st.sampled_from([30, 60])) for _ in range(n_customers)],
        }
    )
    invoices, payments = [], []
    for i in range(draw(st.integers(0, max_invoices))):
        customer = draw(st.integers(0, n_customers - 1))
        onboarded = customers.loc[customer, "onboarding_date"].date()
        issue = onboarded + dt.timedelta(days=draw(st.integers(0, SPAN_DAYS - 300)))
        due = issue + dt.timedelta(days=draw(st.sampled_from([0, 30, 60])))
        amount = float(draw(st.integers(1, 50)) * 100)
        outcome = draw(st.sampled_from(["paid", "paid", "partial", "open", "written_off"]))
        written_off = (
            issue + dt.timedelta(days=draw(st.integers(60, 400))) if outcome == "written_off" else None
        )
        dispute = (
            issue + dt.timedelta(days=draw(st.integers(0, 60)))
            if draw(st.booleans()) and draw(st.booleans())
            else None
        )
        if outcome in ("paid", "partial"):
            n_parts = draw(st.integers(1, 3))
            day = issue
            for part in range(n_parts):
                day = day + dt.timedelta(days=draw(st.integers(0, 90)))
                share = amount / n_parts if outcome == "paid" else amount / (n_parts + 1)
                payments.append(
                    {
                        "payment_id": f"P{i}_{part}",
                        "invoice_id": f"I{i}",
                        "payment_date": pd.Timestamp(day),
                        "amount": share,
                    }
                )
        invoices.append(
            {
                "invoice_id": f"I{i}",
                "customer_id": f"C{customer}",
                "issue_date": pd.Timestamp(issue),
                "due_date": pd.Timestamp(due),
                "amount": amount,
                "settled_date": pd.NaT,
                "dispute_date": pd.Timestamp(dispute) if dispute else pd.NaT,
                "written_off_date": pd.Timestamp(written_off) if written_off else pd.NaT,
            }
        )
    events = [
        {
            "customer_id": f"C{draw(st.integers(0, n_customers - 1))}",
            "date": pd.Timestamp(START + dt.timedelta(days=draw(st.integers(0, SPAN_DAYS)))),
            "type": draw(st.sampled_from(["legal_action", "restructuring", "bankruptcy"])),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    invoice_columns = [
        "invoice_id",
        "customer_id",
        "issue_date",
        "due_date",
        "amount",
        "settled_date",
        "dispute_date",
        "written_off_date",
    ]
    frames = {
        "customers": customers,
        "invoices": pd.DataFrame(invoices, columns=invoice_columns),
        "payments": pd.DataFrame(payments, columns=["payment_id", "invoice_id", "payment_date", "amount"]),
        "events": pd.DataFrame(events, columns=["customer_id", "date", "type"]),
    }
    if with_history:
        frames["customer_history"] = draw(customer_history_frames(customers))
    return frames


HISTORY_COLUMNS = ["customer_id", "date", "credit_limit", "payment_terms_days", "bureau_score"]


@st.composite
def customer_history_frames(draw: st.DrawFn, customers: pd.DataFrame) -> pd.DataFrame:
    """Valid dated customer facts: unique dates per customer, on or after onboarding, at least one value a row."""
    rows = []
    for customer in customers.itertuples():
        offsets = draw(st.sets(st.integers(0, SPAN_DAYS), max_size=4))
        for offset in sorted(offsets):
            values = {
                "credit_limit": draw(st.sampled_from([None, 0.0, 1000.0, 10000.0, 30000.0])),
                "payment_terms_days": draw(st.sampled_from([None, 15, 45])),
                "bureau_score": draw(st.sampled_from([None, 420.0, 610.0, 780.0])),
            }
            if all(v is None for v in values.values()):
                values["bureau_score"] = 550.0
            day = customer.onboarding_date + pd.Timedelta(days=offset)
            rows.append({"customer_id": customer.customer_id, "date": day} | values)
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    return frame.astype({"credit_limit": "float64", "payment_terms_days": "Int64", "bureau_score": "float64"})


as_of_dates = st.integers(0, SPAN_DAYS + 60).map(lambda days: START + dt.timedelta(days=days))
