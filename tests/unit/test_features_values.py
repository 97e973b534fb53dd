"""Hand-computed values of each feature family on a small ledger, as of 2024-06-30."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from riskmodel.features.customer import customer_features
from riskmodel.features.invoice import invoice_features
from riskmodel.ledger import ledger_from_frames

AS_OF = dt.date(2024, 6, 30)
D = pd.Timestamp


@pytest.fixture(scope="module")
def ledger():
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "onboarding_date": [D("2023-01-01"), D("2024-06-01")],
            "credit_limit": [10000.0, 500.0],
            "payment_terms_days": [30, 30],
        }
    )
    rows = [
        # id, issue, due, amount, settled, dispute
        (
            "A",
            "2024-01-01",
            "2024-01-31",
            1000.0,
            "2024-02-10",
            None,
        ),  # 10 days late, settled 141 days before AS_OF
        (
            "B",
            "2024-04-01",
            "2024-05-01",
            2000.0,
            "2024-05-21",
            None,
        ),  # 20 late, two instalments, settled 40 days before
        ("C", "2024-05-01", "2024-05-31", 500.0, "2024-05-29", None),  # 2 days early
        ("D", "2024-05-15", "2024-06-14", 3000.0, None, "2024-06-01"),  # open, 16 dpd, 1000 paid, disputed
        ("E", "2024-06-20", "2024-07-20", 1500.0, None, None),  # open, not yet due
        ("F", "2024-02-01", "2024-03-02", 800.0, None, None),  # open, 120 dpd
        ("G", "2024-07-05", "2024-08-04", 9999.0, None, None),  # issued after AS_OF: unseen
        (
            "H",
            "2024-03-01",
            "2024-03-31",
            400.0,
            "2024-07-10",
            None,
        ),  # settled after AS_OF: open at AS_OF, 91 dpd
    ]
    invoices = pd.DataFrame(
        [
            {
                "invoice_id": i,
                "customer_id": "C1",
                "issue_date": D(issue),
                "due_date": D(due),
                "amount": amount,
                "settled_date": D(settled) if settled else pd.NaT,
                "dispute_date": D(dispute) if dispute else pd.NaT,
                "written_off_date": pd.NaT,
            }
            for i, issue, due, amount, settled, dispute in rows
        ]
    )
    payments = pd.DataFrame(
        [
            ("P1", "A", D("2024-02-10"), 1000.0),
            ("P2", "B", D("2024-05-10"), 1000.0),
            ("P3", "B", D("2024-05-21"), 1000.0),
            ("P4", "C", D("2024-05-29"), 500.0),
            ("P5", "D", D("2024-06-20"), 1000.0),
            ("P6", "H", D("2024-07-10"), 400.0),
        ],
        columns=["payment_id", "invoice_id", "payment_date", "amount"],
    )
    events = pd.DataFrame(
        {
            "customer_id": ["C1", "C1"],
            "date": [D("2024-03-01"), D("2024-08-01")],
            "type": ["restructuring", "legal_action"],
        }
    )
    ledger = ledger_from_frames(
        {"customers": customers, "invoices": invoices, "payments": payments, "events": events}, strict=True
    )
    return ledger


@pytest.fixture(scope="module")
def c1(ledger):
    frame = customer_features(ledger, AS_OF, active_only=False)
    return frame.set_index("customer_id").loc["C1"]


def test_exposure_and_aging(c1):
    assert c1["open_balance"] == pytest.approx(2000 + 1500 + 800 + 400)  # D net of its part payment, E, F, H
    assert (c1["n_invoices_open"], c1["n_invoices_overdue"]) == (4, 3)
    assert c1["open_amount_current"] == pytest.approx(1500)
    assert c1["open_amount_1_30"] == pytest.approx(2000)
    assert c1["open_amount_31_60"] == c1["open_amount_61_90"] == 0
    assert c1["open_amount_90_plus"] == pytest.approx(1200)
    assert c1["share_90_plus"] == pytest.approx(1200 / 4700)
    assert c1["overdue_share"] == pytest.approx(3200 / 4700)
    assert c1["max_days_past_due"] == 120
    assert c1["limit_utilisation"] == pytest.approx(0.47)


def test_days_beyond_terms_windows_and_trend(c1):
    assert c1["days_beyond_terms_mean_90d"] == pytest.approx((20 * 2000 - 2 * 500) / 2500)  # B, C
    assert c1["days_beyond_terms_mean_180d"] == pytest.approx(
        (10 * 1000 + 20 * 2000 - 2 * 500) / 3500
    )  # A, B, C
    assert c1["days_beyond_terms_max_90d"] == 20
    assert c1["share_paid_late_90d"] == pytest.approx(0.5)
    assert c1["share_paid_late_30_365d"] == 0
    assert c1["days_beyond_terms_trend_90_365"] == pytest.approx(15.6 - 14.0)
    assert c1["days_beyond_terms_mean_last5"] == pytest.approx((10 + 20 - 2) / 3)


def test_volume_dso_and_growth(c1):
    assert c1["invoiced_amount_90d"] == pytest.approx(500 + 3000 + 1500)  # C, D, E; B is exactly 90 days old
    assert c1["invoiced_amount_prev_90d"] == pytest.approx(2000 + 800 + 400)  # B, F, H
    assert c1["n_invoices_lifetime"] == 7
    assert c1["volume_growth_90d"] == pytest.approx(5000 / 3200 - 1)
    assert c1["dso_90d"] == pytest.approx(4700 / 5000 * 90)
    assert c1["open_balance_prev_90d"] == pytest.approx(800 + 400 + 2000)  # F, H, B open on 2024-04-01
    assert c1["dso_trend_90d"] == pytest.approx(4700 / 5000 * 90 - 90)


def test_recency_disputes_partial_events_tenure(c1):
    assert c1["days_since_last_payment"] == 10
    assert c1["days_since_last_late_payment"] == 40
    assert c1["days_since_last_invoice"] == 10
    assert (c1["n_disputes_open"], c1["n_disputes_365d"]) == (1, 1)
    assert c1["n_invoices_part_paid_open"] == 1
    assert c1["share_paid_in_instalments_365d"] == pytest.approx(1 / 3)
    assert c1["n_credit_events"] == 1  # the legal action comes after AS_OF
    assert c1["tenure_days"] == 546


def test_customer_without_history_has_zero_counts_and_no_rates(ledger):
    c2 = customer_features(ledger, AS_OF, active_only=False).set_index("customer_id").loc["C2"]
    assert c2["open_balance"] == 0 and c2["n_invoices_lifetime"] == 0
    assert pd.isna(c2["days_beyond_terms_mean_365d"])
    assert customer_features(ledger, AS_OF)["customer_id"].tolist() == ["C1"]  # C2 is not active


def test_customer_onboarded_later_is_not_in_the_snapshot(ledger):
    assert customer_features(ledger, dt.date(2024, 5, 1), active_only=False)["customer_id"].tolist() == ["C1"]


def test_invoice_features_are_as_of_the_day_before_issue(ledger):
    e = invoice_features(ledger).set_index("invoice_id").loc["E"]
    # On 2024-06-19 D was still fully open (its part payment came on the 20th), F and H too.
    assert e["open_balance"] == pytest.approx(3000 + 800 + 400)
    assert e["invoice_open_share_added"] == pytest.approx(1500 / (4200 + 1500))
    assert e["invoice_terms_days"] == 30 and e["invoice_issue_month"] == 6
    # similar size (750..3000): A (10 days late) and B (20 days late), amount-weighted
    assert e["days_beyond_terms_mean_similar_size"] == pytest.approx((10 * 1000 + 20 * 2000) / 3000)


def test_invoice_level_as_of_keeps_only_invoices_issued_by_then(ledger):
    ids = invoice_features(ledger, AS_OF)["invoice_id"].tolist()
    assert sorted(ids) == ["A", "B", "C", "D", "E", "F", "H"]
