"""Behaviour of the trained default and late-payment models on ``data/sample``, through the scoring path.

Directional: a customer whose open invoice is more days past due never gets a lower PD, and one
who pays an overdue invoice never gets a higher one. Invariance: the customer id has no effect.
Ordering: the late-payment probabilities fall as the threshold rises. Each test edits real
customers' ledgers at ``AS_OF`` and scores them before and after with ``score_customers``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from riskmodel.ledger import ledger_from_frames, load_ledger
from riskmodel.scoring import ModelBundle, score_customers
from tests.conftest import SAMPLE

pytestmark = [pytest.mark.model, pytest.mark.slow]

AS_OF = dt.date(2025, 12, 31)
TABLES = ("customers", "invoices", "payments", "events")
N_CUSTOMERS = 60  # customers edited per test, enough to see a wrong direction, few to score fast
SHIFT_DAYS = 30  # how much earlier the due date of an open invoice is moved


@pytest.fixture(scope="module")
def bundle(sample_models) -> ModelBundle:
    return ModelBundle.from_registry(sample_models)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    ledger = load_ledger(SAMPLE)
    return {name: ledger.frame(name) for name in TABLES}


@pytest.fixture(scope="module")
def open_at_as_of(frames) -> pd.DataFrame:
    """Invoices issued by ``AS_OF`` and not settled by then, one per customer (the oldest), with days past due."""
    invoices = frames["invoices"]
    as_of = pd.Timestamp(AS_OF)
    unpaid = invoices[
        (invoices["issue_date"] <= as_of)
        & ~(invoices["settled_date"] <= as_of)
        & ~(invoices["written_off_date"] <= as_of)
    ]
    oldest = unpaid.sort_values(["customer_id", "due_date"]).drop_duplicates("customer_id")
    return oldest.assign(days_past_due=(as_of - oldest["due_date"]).dt.days)


def _scores(bundle: ModelBundle, frames: dict[str, pd.DataFrame], customer_ids: list[str]):
    """PD and features of ``customer_ids`` as of ``AS_OF`` on a ledger made of ``frames``."""
    ledger = ledger_from_frames(frames, strict=True)
    scored = score_customers(bundle, ledger, AS_OF, customer_ids=customer_ids)
    return scored.scores.set_index("customer_id"), scored.features.set_index("customer_id")


def _pick(invoices: pd.DataFrame, rows: pd.Series) -> pd.DataFrame:
    return invoices[rows].sort_values("customer_id").head(N_CUSTOMERS)


def _wrong_way(before: pd.Series, after: pd.Series, higher_is_wrong: bool) -> list[str]:
    moved = after - before if higher_is_wrong else before - after
    return sorted(moved.index[moved > 1e-12])


def _moved_features(before: pd.DataFrame, after: pd.DataFrame, customer_ids: list[str]) -> list[str]:
    """Feature columns whose value changed for any of ``customer_ids``."""
    b, a = before.loc[customer_ids], after.loc[customer_ids]
    numeric = [c for c in b.columns if pd.api.types.is_numeric_dtype(b[c])]
    changed = ~np.isclose(b[numeric].astype(float), a[numeric].astype(float), equal_nan=True)
    return sorted(np.asarray(numeric)[changed.any(axis=0)].tolist())


def test_more_days_past_due_never_lowers_the_pd(bundle, frames, open_at_as_of):
    # Move the due date of one open invoice per customer SHIFT_DAYS earlier, not before its issue date.
    invoices = open_at_as_of
    chosen = _pick(invoices, invoices["due_date"] - pd.Timedelta(days=SHIFT_DAYS) >= invoices["issue_date"])
    customer_ids = chosen["customer_id"].tolist()
    edited = frames["invoices"].copy()
    rows = edited["invoice_id"].isin(chosen["invoice_id"])
    edited.loc[rows, "due_date"] = edited.loc[rows, "due_date"] - pd.Timedelta(days=SHIFT_DAYS)

    before, features_before = _scores(bundle, frames, customer_ids)
    after, features_after = _scores(bundle, frames | {"invoices": edited}, customer_ids)

    wrong = _wrong_way(before["pd_12m"], after["pd_12m"], higher_is_wrong=False)
    assert not wrong, (
        f"PD fell for {len(wrong)} of {len(customer_ids)} customers, e.g. {wrong[:5]}; "
        f"features that moved: {_moved_features(features_before, features_after, wrong)}"
    )


@pytest.mark.xfail(
    strict=True,
    reason=(
        "paying an overdue invoice records a late payment: days_since_last_late_payment drops to 0 and "
        "share_paid_late_365d / days_beyond_terms_mean_365d rise, outweighing max_days_past_due falling "
        "(C000046: pd 0.090 -> 0.129, C000153: 0.014 -> 0.022)"
    ),
)
def test_paying_an_overdue_invoice_never_raises_the_pd(bundle, frames, open_at_as_of):
    # Settle one overdue open invoice per customer on AS_OF, with a payment of what was still open.
    invoices = open_at_as_of
    chosen = _pick(invoices, invoices["days_past_due"] > 0)
    customer_ids = chosen["customer_id"].tolist()
    as_of = pd.Timestamp(AS_OF)
    payments = frames["payments"]
    paid = (
        payments[(payments["payment_date"] <= as_of) & payments["invoice_id"].isin(chosen["invoice_id"])]
        .groupby("invoice_id")["amount"]
        .sum()
    )
    remaining = chosen.set_index("invoice_id")["amount"].sub(paid, fill_value=0)
    new_payments = pd.DataFrame(
        {
            "payment_id": [f"PAY-ASOF-{invoice}" for invoice in remaining.index],
            "invoice_id": remaining.index,
            "payment_date": as_of,
            "amount": remaining.to_numpy(),
        }
    )
    edited = frames["invoices"].copy()
    edited.loc[edited["invoice_id"].isin(chosen["invoice_id"]), "settled_date"] = as_of

    before, features_before = _scores(bundle, frames, customer_ids)
    after, features_after = _scores(
        bundle,
        frames | {"invoices": edited, "payments": pd.concat([payments, new_payments], ignore_index=True)},
        customer_ids,
    )

    wrong = _wrong_way(before["pd_12m"], after["pd_12m"], higher_is_wrong=True)
    assert not wrong, (
        f"PD rose for {len(wrong)} of {len(customer_ids)} customers, e.g. {wrong[:5]}; "
        f"features that moved: {_moved_features(features_before, features_after, wrong)}"
    )


def test_renaming_customers_leaves_their_pd_unchanged(bundle, frames, open_at_as_of):
    customer_ids = open_at_as_of["customer_id"].sort_values().head(N_CUSTOMERS).tolist()
    renamed_ids = {customer_id: f"RENAMED-{i:04d}" for i, customer_id in enumerate(customer_ids)}
    renamed = {
        name: frame.assign(customer_id=frame["customer_id"].replace(renamed_ids))
        if "customer_id" in frame
        else frame
        for name, frame in frames.items()
    }

    before, _ = _scores(bundle, frames, customer_ids)
    after, _ = _scores(bundle, renamed, list(renamed_ids.values()))

    after = after.rename(index={new: old for old, new in renamed_ids.items()}).loc[before.index]
    np.testing.assert_allclose(after["pd_12m"], before["pd_12m"], rtol=0, atol=1e-12)


def test_late_payment_probabilities_fall_as_the_threshold_rises(bundle, frames, open_at_as_of):
    customer_ids = open_at_as_of["customer_id"].sort_values().head(N_CUSTOMERS).tolist()
    ledger = ledger_from_frames(frames, strict=True)
    invoices = score_customers(bundle, ledger, AS_OF, customer_ids=customer_ids).open_invoices
    p = invoices[["p_late", "p_late_30", "p_late_60", "p_late_90"]].to_numpy()
    assert len(p) >= N_CUSTOMERS
    assert (np.diff(p, axis=1) <= 0).all()
