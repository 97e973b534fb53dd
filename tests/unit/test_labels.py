"""Targets: censoring at the data end, customers already in default, horizon edges, disputes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from riskmodel.exceptions import PolicyError
from riskmodel.features.asof import truncate_ledger
from riskmodel.labels import (
    DefaultDefinition,
    default_state,
    make_default_labels,
    make_late_payment_labels,
    make_onboarding_labels,
)
from riskmodel.ledger import ledger_from_frames, load_ledger
from riskmodel.policy.config import load_policy, parse_policy
from tests.conftest import SAMPLE

D = pd.Timestamp


def _ledger(invoices, events=None, customers=None):
    customers = customers or [("C1", "2022-01-01"), ("C2", "2022-01-01"), ("C3", "2023-06-01")]
    frames = {
        "customers": pd.DataFrame(
            [(c, D(o)) for c, o in customers], columns=["customer_id", "onboarding_date"]
        ),
        "invoices": pd.DataFrame(
            [
                (
                    i,
                    c,
                    D(issue),
                    D(due),
                    100.0,
                    D(s) if s else pd.NaT,
                    D(dis) if dis else pd.NaT,
                    D(w) if w else pd.NaT,
                )
                for i, c, issue, due, s, dis, w in invoices
            ],
            columns=[
                "invoice_id",
                "customer_id",
                "issue_date",
                "due_date",
                "amount",
                "settled_date",
                "dispute_date",
                "written_off_date",
            ],
        ),
    }
    if events:
        frames["events"] = pd.DataFrame(
            [(c, D(d), t) for c, d, t in events], columns=["customer_id", "date", "type"]
        )
    return ledger_from_frames(frames, strict=True)


def default_dates(ledger, as_of, definition=DefaultDefinition()):
    """{customer_id: date its current default began} of the customers in default at ``as_of``."""
    state = default_state(ledger, as_of, definition)
    return state[state["in_default"]].set_index("customer_id")["default_date"].to_dict()


def test_default_date_is_the_day_an_unpaid_invoice_passes_90_days_past_due():
    ledger = _ledger([("I1", "C1", "2023-01-01", "2023-01-31", None, None, None)])
    assert default_dates(ledger, dt.date(2024, 1, 1)) == {"C1": D("2023-05-02")}  # 2023-01-31 + 91 days
    assert default_dates(ledger, dt.date(2023, 5, 1)) == {}  # not yet 90+ at the data end


def test_invoice_paid_on_day_90_is_not_a_default():
    ledger = _ledger(
        [
            ("I1", "C1", "2023-01-01", "2023-01-31", "2023-05-01", None, None),
            ("I2", "C2", "2023-01-01", "2023-01-31", "2023-05-02", None, None),
        ]
    )
    assert set(default_dates(ledger, dt.date(2023, 6, 1))) == {"C2"}


def test_dispute_holds_the_trigger_until_180_days_past_due_and_not_after():
    # Behaviour changed: a disputed unpaid invoice used to never trigger default.
    ledger = _ledger(
        [
            ("I1", "C1", "2023-01-01", "2023-01-31", None, "2023-02-15", None),
            ("I2", "C2", "2023-01-01", "2023-01-31", None, "2023-02-15", "2023-03-01"),
        ]
    )
    assert default_dates(ledger, dt.date(2023, 7, 30)) == {"C2": D("2023-03-01")}  # I1 180 dpd: held
    assert default_dates(ledger, dt.date(2023, 7, 31)) == {"C1": D("2023-07-31"), "C2": D("2023-03-01")}
    row = default_state(ledger, dt.date(2023, 7, 31)).set_index("customer_id").loc["C1"]
    assert (row["trigger_type"], row["invoice_id"], row["days_past_due"]) == ("invoice_past_due", "I1", 181)


def test_dispute_hold_is_configurable_and_a_late_dispute_does_not_hold():
    ledger = _ledger(
        [
            ("I1", "C1", "2023-01-01", "2023-01-31", None, "2023-02-15", None),
            ("I2", "C2", "2023-01-01", "2023-01-31", None, "2023-06-01", None),  # disputed at 121 dpd
        ]
    )
    short = DefaultDefinition(dispute_hold_days=120)
    assert default_dates(ledger, dt.date(2023, 6, 1), short) == {
        "C1": D("2023-06-01"),  # 2023-01-31 + 121 days
        "C2": D("2023-05-02"),  # the dispute came after the 90-day trigger
    }


def test_default_definition_is_read_from_the_policy_and_validated():
    assert load_policy().default == DefaultDefinition(dispute_hold_days=180, cure_months=6)
    text = load_policy().source_text.replace("dispute_hold_days: 180", "dispute_hold_days: 30")
    with pytest.raises(PolicyError, match="default.dispute_hold_days must be at least 90.*got 30"):
        parse_policy(text)


def test_customer_cures_six_months_after_the_past_due_invoice_is_paid():
    ledger = _ledger([("I1", "C1", "2023-01-01", "2023-01-31", "2023-06-01", None, None)])
    assert default_dates(ledger, dt.date(2023, 11, 30)) == {"C1": D("2023-05-02")}
    cured = default_state(ledger, dt.date(2023, 12, 1)).set_index("customer_id").loc["C1"]
    assert not cured["in_default"] and cured["cure_date"] == D("2023-12-01")
    # an unpaid invoice never lets the customer cure
    unpaid = _ledger([("I1", "C1", "2023-01-01", "2023-01-31", None, None, None)])
    assert default_dates(unpaid, dt.date(2026, 1, 1)) == {"C1": D("2023-05-02")}


def test_a_trigger_during_the_cure_period_extends_the_default_and_after_it_starts_a_new_one():
    ledger = _ledger(
        [("I1", "C1", "2023-01-01", "2023-01-31", "2023-06-01", None, None)],
        events=[("C1", "2023-09-01", "legal_action"), ("C1", "2024-06-01", "bankruptcy")],
    )
    assert default_dates(ledger, dt.date(2024, 2, 29)) == {"C1": D("2023-05-02")}  # cure moved to 2024-03-01
    assert default_dates(ledger, dt.date(2024, 3, 1)) == {}
    state = default_state(ledger, dt.date(2024, 6, 1)).set_index("customer_id").loc["C1"]
    assert state["default_date"] == D("2024-06-01") and state["trigger_type"] == "bankruptcy"


def test_bankruptcy_event_is_a_default_and_restructuring_is_not():
    ledger = _ledger([], events=[("C1", "2023-03-03", "bankruptcy"), ("C2", "2023-03-03", "restructuring")])
    assert default_dates(ledger, dt.date(2023, 6, 1)) == {"C1": D("2023-03-03")}


def test_default_labels_horizon_edges_already_in_default_and_censoring():
    ledger = _ledger([("I1", "C1", "2023-01-01", "2023-01-31", None, None, None)])  # C1 defaults 2023-05-02
    snapshots = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C1", "C1", "C2", "C2"],
            "as_of": [
                D("2022-05-01"),
                D("2022-05-02"),
                D("2023-01-31"),
                D("2023-05-31"),
                D("2022-12-31"),
                D("2023-06-30"),
            ],
        }
    )
    labels = make_default_labels(ledger, snapshots, data_end=dt.date(2024, 1, 31), horizon_months=12)
    got = {(r.customer_id, r.as_of.date()): r.label_default_12m for r in labels.itertuples()}
    assert got == {
        ("C1", dt.date(2022, 5, 1)): 0,  # horizon ends 2023-05-01, the day before default
        ("C1", dt.date(2022, 5, 2)): 1,  # horizon ends exactly on the default day
        ("C1", dt.date(2023, 1, 31)): 1,
        # 2023-05-31: already in default -> left out
        ("C2", dt.date(2022, 12, 31)): 0,
        # C2 2023-06-30: horizon ends 2024-06-30 after the data end and no default yet -> censored
    }


def test_late_payment_labels_censor_open_invoices_per_threshold():
    ledger = _ledger(
        [
            ("paid45", "C1", "2023-01-01", "2023-01-31", "2023-03-17", None, None),  # 45 days beyond terms
            ("early", "C1", "2023-01-01", "2023-01-31", "2023-01-20", None, None),
            ("open40", "C2", "2023-05-01", "2023-05-31", None, None, None),  # 40 dpd at the data end
            ("written", "C2", "2023-01-01", "2023-01-31", None, None, "2023-06-01"),
        ]
    )
    labels = make_late_payment_labels(ledger, data_end=dt.date(2023, 7, 10)).set_index("invoice_id")
    columns = ["label_late_0", "label_late_30", "label_late_60", "label_late_90"]
    np.testing.assert_array_equal(labels.loc["paid45", columns], [1, 1, 0, 0])
    np.testing.assert_array_equal(labels.loc["early", columns], [0, 0, 0, 0])
    np.testing.assert_array_equal(labels.loc["open40", columns], [1, 1, np.nan, np.nan])
    np.testing.assert_array_equal(labels.loc["written", columns], [1, 1, 1, 1])
    assert labels.loc["paid45", "days_beyond_terms"] == 45 and np.isnan(
        labels.loc["open40", "days_beyond_terms"]
    )


def test_late_labels_only_use_outcomes_known_at_the_data_end():
    ledger = _ledger([("late", "C1", "2023-01-01", "2023-01-31", "2023-06-01", None, None)])
    labels = make_late_payment_labels(ledger, data_end=dt.date(2023, 2, 15)).set_index("invoice_id")
    assert labels.loc["late", "label_late_0"] == 1  # already 15 days past due, unpaid
    assert np.isnan(labels.loc["late", "label_late_30"])  # settled later: unknown at the data end


def test_onboarding_labels_use_the_year_after_onboarding():
    customers = [("C1", "2022-01-01"), ("C3", "2023-06-01"), ("C4", "2023-07-01")]
    ledger = _ledger(
        [("I1", "C3", "2023-06-01", "2023-07-01", None, None, None)], customers=customers
    )  # C3 defaults 2023-09-30
    labels = make_onboarding_labels(ledger, data_end=dt.date(2024, 12, 31)).set_index("customer_id")
    # C1 was onboarded before the ledger's first invoice: its first year is not observed, so it has no label
    assert labels["label_default_12m"].to_dict() == {"C3": 1, "C4": 0}
    censored = make_onboarding_labels(ledger, data_end=dt.date(2024, 3, 1))
    assert set(censored["customer_id"]) == {"C3"}  # C4's year is not over and it has not defaulted


@pytest.mark.parametrize("horizon", [6, 12, 18])
def test_horizon_is_configurable(horizon):
    ledger = _ledger([("I1", "C1", "2023-01-01", "2023-01-31", None, None, None)])
    snapshots = pd.DataFrame({"customer_id": ["C1"], "as_of": [D("2022-10-31")]})
    labels = make_default_labels(ledger, snapshots, data_end=dt.date(2025, 1, 1), horizon_months=horizon)
    assert labels["label_default_12m"].tolist() == [
        int(horizon >= 12)
    ]  # the default on 2023-05-02 is past a 6-month horizon


def test_cured_customers_are_labelled_again_and_labels_agree_with_the_state():
    ledger = _ledger(
        [("I1", "C1", "2023-01-01", "2023-01-31", "2023-06-01", None, None)],
        events=[("C1", "2024-06-01", "bankruptcy")],
    )  # in default 2023-05-02 .. 2023-11-30, cured 2023-12-01, new default 2024-06-01
    snapshots = pd.DataFrame(
        {
            "customer_id": "C1",
            "as_of": pd.to_datetime(["2023-04-30", "2023-11-30", "2023-12-31", "2024-07-31"]),
        }
    )
    labels = make_default_labels(ledger, snapshots, data_end=dt.date(2025, 12, 31), horizon_months=12)
    got = dict(zip(labels["as_of"].dt.date, labels["label_default_12m"], strict=True))
    assert got == {dt.date(2023, 4, 30): 1, dt.date(2023, 12, 31): 1}  # 2023-11-30, 2024-07-31: in default
    for as_of in snapshots["as_of"].dt.date:
        in_default = bool(default_dates(ledger, as_of))
        assert in_default == (as_of not in got)


@pytest.mark.parametrize("as_of", [dt.date(2024, 3, 31), dt.date(2024, 12, 31), dt.date(2025, 6, 30)])
def test_default_state_is_point_in_time(as_of):
    ledger = load_ledger(SAMPLE)
    full = default_state(ledger, as_of)
    truncated = default_state(truncate_ledger(ledger, as_of), as_of)
    pd.testing.assert_frame_equal(full, truncated)
    assert full["in_default"].any() and not full["in_default"].all()  # both states occur


def test_labels_leave_out_exactly_the_customers_the_state_puts_in_default_on_a_generated_ledger():
    """One definition: at every month end, a snapshot is unlabelled as 'already in default' iff default_state says so."""
    from riskmodel.ledger import ledger_from_frames
    from riskmodel.sample import make_sample_tables

    ledger = ledger_from_frames(
        make_sample_tables(n_customers=150, seed=4, start=dt.date(2021, 1, 1), months=36)
    )
    month_ends = pd.date_range("2021-06-30", "2022-12-31", freq="ME")  # horizons end by the data end
    customers = ledger.frame("customers")["customer_id"]
    snapshots = pd.DataFrame(
        [(c, m) for m in month_ends for c in customers], columns=["customer_id", "as_of"]
    )
    labels = make_default_labels(ledger, snapshots, data_end=ledger.data_end, horizon_months=12)
    labelled = set(zip(labels["customer_id"], labels["as_of"], strict=True))
    checked = 0
    for month_end in month_ends:
        state = default_state(ledger, month_end.date())
        in_default = set(state.loc[state["in_default"], "customer_id"])
        for customer in customers:
            assert ((customer, month_end) not in labelled) == (customer in in_default), (customer, month_end)
        checked += len(in_default)
    assert checked > 0  # some customers were in default at some month end
