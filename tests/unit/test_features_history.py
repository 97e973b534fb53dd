"""Customer facts as of each date: the latest customer_history value on or before it, else the customers row."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from riskmodel.features.customer import customer_features
from riskmodel.features.engine import run_feature_query
from riskmodel.features.invoice import invoice_features, invoice_snapshots
from riskmodel.features.online import OnlineFeatureStore
from riskmodel.ledger import ledger_from_frames

D = pd.Timestamp
FACTS = ["credit_limit", "payment_terms_days", "bureau_score", "annual_revenue"]


def history_ledger():
    """Two customers; C1's limit is cut, its bureau score refreshed, then its limit raised."""
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "onboarding_date": [D("2023-01-01"), D("2023-01-01")],
            "credit_limit": [10000.0, 4000.0],
            "payment_terms_days": [30, 60],
            "bureau_score": [700.0, 650.0],
            "annual_revenue": [1e6, 2e6],
        }
    )
    invoices = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3", "I4"],
            "customer_id": ["C1", "C1", "C1", "C2"],
            "issue_date": [D("2023-02-01"), D("2023-05-01"), D("2023-08-01"), D("2023-05-01")],
            "due_date": [D("2023-03-01"), D("2023-06-01"), D("2023-09-01"), D("2023-06-01")],
            "amount": [1000.0, 1000.0, 1000.0, 500.0],
        }
    )
    history = pd.DataFrame(
        {  # C1: limit cut in March, bureau refresh in June (limit not given), limit raised in July
            "customer_id": ["C1", "C1", "C1"],
            "date": [D("2023-03-15"), D("2023-06-10"), D("2023-07-20")],
            "credit_limit": [2000.0, None, 6000.0],
            "payment_terms_days": [15, None, None],
            "bureau_score": [None, 480.0, None],
        }
    )
    return ledger_from_frames({"customers": customers, "invoices": invoices, "customer_history": history})


@pytest.fixture(scope="module")
def ledger():
    return history_ledger()


def _facts(ledger, as_of: dt.date) -> pd.DataFrame:
    return customer_features(ledger, as_of, active_only=False).set_index("customer_id")[FACTS]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (dt.date(2023, 3, 14), [10000.0, 30, 700.0]),  # before any row: the customers row (onboarding)
        (dt.date(2023, 3, 15), [2000.0, 15, 700.0]),  # a row counts from its own date on
        (dt.date(2023, 6, 30), [2000.0, 15, 480.0]),  # empty fields keep the last value given
        (dt.date(2023, 12, 31), [6000.0, 15, 480.0]),
    ],
)
def test_customer_facts_are_the_latest_given_on_or_before_as_of(ledger, as_of, expected):
    facts = _facts(ledger, as_of)
    assert facts.loc["C1", ["credit_limit", "payment_terms_days", "bureau_score"]].tolist() == expected
    assert facts.loc["C1", "annual_revenue"] == 1e6  # never dated: the customers row
    assert facts.loc["C2"].tolist() == [4000.0, 60, 650.0, 2e6]  # no history: the customers row


def test_limit_utilisation_uses_the_limit_of_the_day(ledger):
    features = customer_features(ledger, dt.date(2023, 5, 10), active_only=False).set_index("customer_id")
    assert features.loc["C1", "open_balance"] == 2000.0
    assert features.loc["C1", "limit_utilisation"] == pytest.approx(2000.0 / 2000.0)


def test_invoice_features_read_the_facts_as_of_each_issue_date(ledger):
    features = invoice_features(ledger).set_index("invoice_id")
    assert features.loc[["I1", "I2", "I3"], "credit_limit"].tolist() == [10000.0, 2000.0, 6000.0]
    assert features.loc[["I1", "I2", "I3"], "bureau_score"].tolist() == [700.0, 700.0, 480.0]


def test_online_store_and_chunks_give_the_batch_facts(ledger):
    as_of = dt.date(2023, 6, 30)
    batch = customer_features(ledger, as_of, active_only=False).set_index("customer_id")
    store = OnlineFeatureStore(ledger)
    try:
        online = store.compute("C1", as_of)
    finally:
        store.close()
    assert online[FACTS].tolist() == batch.loc["C1", FACTS].tolist()
    snapshots = invoice_snapshots(ledger)
    one_pass = run_feature_query(ledger, snapshots, "invoice")
    pd.testing.assert_frame_equal(
        one_pass, run_feature_query(ledger, snapshots, "invoice", snapshots_per_chunk=1)
    )
