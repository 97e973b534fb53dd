"""Early-warning rules firing and not firing, alert memory, collection tiers, one customer = portfolio."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel.exceptions import PolicyError
from riskmodel.policy.alerts import AlertUpdate, evaluate_alerts, evaluate_customer_alerts
from riskmodel.policy.collection import collection_plan, collection_tier
from riskmodel.policy.config import load_policy
from tests.unit.test_policy_config import policy_with

POLICY = load_policy()
# The shipped policy leaves some rules off (README, "Alerts"); they are tested switched on.
ALL_RULES = policy_with(
    {
        f"alerts.{rule}.enabled": True
        for rule in ("grade_downgrade", "payment_trend", "new_dispute", "utilisation")
    }
)
QUIET = {"limit_utilisation": 0.5, "days_beyond_terms_mean_90d": 2.0, "days_beyond_terms_mean_365d": 2.0}


def evaluate(
    pd_12m: float = 0.01,
    previous: dict[str, Any] | None = None,
    invoices: list[dict[str, Any]] | None = None,
    open_alerts: pd.DataFrame | None = None,
    lang: str = "en",
    policy=POLICY,
    **features: Any,
) -> AlertUpdate:
    """Alerts of customer C1 with quiet features unless overridden."""
    return evaluate_customer_alerts(
        policy, "C1", {**QUIET, **features}, pd_12m, invoices or [], previous, open_alerts, lang
    )


def invoice(
    invoice_id: str = "I1", days_past_due: float = 0, open_amount: float = 1_000.0, is_disputed: bool = False
) -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "days_past_due": days_past_due,
        "open_amount": open_amount,
        "is_disputed": is_disputed,
    }


def fired(update: AlertUpdate) -> set[tuple[str, str]]:
    return set(zip(update.open["alert_type"], update.open["key"], strict=True))


def test_quiet_customer_has_no_alerts() -> None:
    update = evaluate(previous={"pd_12m": 0.01, "grade": 3}, invoices=[invoice(days_past_due=10)])
    assert update.open.empty and update.closed.empty


@pytest.mark.parametrize(
    ("before", "now", "fires"),
    [(0.02, 0.05, True), (0.04, 0.06, True), (0.02, 0.035, False), (0.20, 0.23, False), (0.05, 0.02, False)],
    ids=["jump", "at-both-thresholds", "absolute-too-small", "relative-too-small", "fall"],
)
def test_pd_jump(before: float, now: float, fires: bool) -> None:
    update = evaluate(now, previous={"pd_12m": before, "grade": int(POLICY.grade(now))})
    assert (("pd_jump", "pd_jump") in fired(update)) is fires


def test_pd_jump_facts_and_text() -> None:
    alert = evaluate(0.05, previous={"pd_12m": 0.02, "grade": 6}).records()[0]
    assert alert["facts"] == pytest.approx(
        {"pd_12m": 0.05, "previous_pd_12m": 0.02, "absolute_increase": 0.03, "relative_increase": 1.5}
    )
    assert alert["text"] == "12-month PD rose from 2.00% to 5.00% since the last score (+3.00%, +150%)"
    assert (alert["severity"], alert["severity_level"], alert["action"], alert["status"]) == (
        "warning",
        2,
        "review_credit",
        "new",
    )


def test_no_previous_score_means_no_change_alerts() -> None:
    assert fired(evaluate(0.05)) == set()


@pytest.mark.parametrize(
    ("before", "now", "fires"),
    [(3, 5, True), (3, 4, False), (5, 3, False)],
    ids=["two-notches", "one-notch", "upgrade"],
)
def test_grade_downgrade(before: int, now: int, fires: bool) -> None:
    pd_now = POLICY.master_scale.upper_pd[now - 1]
    pd_before = POLICY.master_scale.upper_pd[before - 1]
    update = evaluate(pd_now, previous={"pd_12m": pd_before, "grade": before}, grade=now, policy=ALL_RULES)
    assert (("grade_downgrade", "grade_downgrade") in fired(update)) is fires


@pytest.mark.parametrize(
    ("pd_12m", "expected"),
    [
        (0.05, set()),
        (0.10, {("pd_level", "0.1", "warning")}),
        (0.12, {("pd_level", "0.1", "warning")}),
        (0.169, {("pd_level", "0.1", "warning")}),
        (0.17, {("pd_level", "0.17", "severe")}),
    ],
    ids=["below", "at-threshold", "warning", "just-below-severe", "severe"],
)
def test_pd_level(pd_12m: float, expected: set) -> None:
    update = evaluate(pd_12m)
    assert (
        set(zip(update.open["alert_type"], update.open["key"], update.open["severity"], strict=True))
        == expected
    )


@pytest.mark.parametrize(
    ("utilisation", "expected"),
    [
        (0.5, set()),
        (np.nan, set()),
        (0.99, set()),
        (1.0, {("1", "warning", "review_credit")}),
        (1.6, {("1.5", "severe", "call_and_order_hold")}),
    ],
    ids=["low", "unknown", "just-under", "at-limit", "far-over"],
)
def test_utilisation(utilisation: float, expected: set) -> None:
    update = evaluate(0.05, limit_utilisation=utilisation, policy=ALL_RULES)
    assert (
        set(zip(update.open["key"], update.open["severity"], update.open["action"], strict=True)) == expected
    )


@pytest.mark.parametrize(
    ("recent", "history", "fires"),
    [(25.0, 10.0, True), (20.0, 10.0, True), (12.0, 5.0, False), (8.0, -5.0, False), (np.nan, 3.0, False)],
    ids=["slowing", "at-threshold", "small-increase", "recent-still-on-time", "no-recent-payments"],
)
def test_payment_trend(recent: float, history: float, fires: bool) -> None:
    update = evaluate(
        days_beyond_terms_mean_90d=recent, days_beyond_terms_mean_365d=history, policy=ALL_RULES
    )
    assert (("payment_trend", "payment_trend") in fired(update)) is fires


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (30, set()),
        (31, {("over_30", "severe", "call_and_order_hold")}),
        (61, {("over_60", "severe", "stop_supply_and_formal_demand")}),
        (91, {("over_90", "severe", "legal_action")}),
    ],
    ids=["30-days", "over-30", "over-60", "over-90"],
)
def test_overdue_invoice_tiers(days: int, expected: set) -> None:
    update = evaluate(invoices=[invoice(days_past_due=days)])
    assert (
        set(zip(update.open["key"], update.open["severity"], update.open["action"], strict=True)) == expected
    )


def test_disputed_invoice_raises_a_dispute_alert_not_an_overdue_one() -> None:
    update = evaluate(invoices=[invoice(days_past_due=95, is_disputed=True)], policy=ALL_RULES)
    assert fired(update) == {("new_dispute", "disputes")}
    assert update.records()[0]["action"] == "resolve_dispute"


def test_disputed_invoice_escalates_when_collection_does_not_pause() -> None:
    update = evaluate(
        invoices=[invoice(days_past_due=95, is_disputed=True)],
        policy=policy_with({"collection.pause_on_dispute": False, "alerts.new_dispute.enabled": True}),
    )
    assert fired(update) == {("new_dispute", "disputes"), ("overdue_invoice", "over_90")}


def test_overdue_invoices_of_a_customer_make_one_alert_listing_them() -> None:
    update = evaluate(
        invoices=[
            invoice("I1", days_past_due=40, open_amount=100.0),
            invoice("I2", days_past_due=70, open_amount=250.0),
            invoice("I3", days_past_due=20, open_amount=999.0),
        ]
    )
    (alert,) = update.records()
    assert (alert["alert_type"], alert["key"], alert["severity"]) == ("overdue_invoice", "over_60", "severe")
    assert alert["facts"]["n_invoices"] == 2 and alert["facts"]["overdue_amount"] == pytest.approx(350.0)
    assert [row["invoice_id"] for row in alert["facts"]["invoices"]] == ["I2", "I1"]
    assert alert["text"] == "2 invoice(s) over 60 days past due, 350.00 open; the oldest 70 days (I2, I1)"


def test_disputes_of_a_customer_make_one_alert() -> None:
    update = evaluate(
        invoices=[invoice("I1", 10, 100.0, is_disputed=True), invoice("I2", -5, 50.0, is_disputed=True)],
        policy=ALL_RULES,
    )
    (alert,) = update.records()
    assert alert["text"] == "2 invoice(s) in dispute, 150.00 open (I1, I2)"


def test_shipped_policy_leaves_disputes_trends_and_utilisation_off_the_worklist() -> None:
    update = evaluate(
        0.05,
        invoices=[invoice(days_past_due=5, is_disputed=True)],
        days_beyond_terms_mean_90d=40.0,
        days_beyond_terms_mean_365d=5.0,
        limit_utilisation=3.0,
    )
    assert fired(update) == set()


@pytest.mark.parametrize(("pd_12m", "fires"), [(0.034, False), (0.035, True)], ids=["grade-5", "grade-6"])
def test_utilisation_alerts_only_where_the_risk_is(pd_12m: float, fires: bool) -> None:
    assert (("utilisation", "1") in fired(evaluate(pd_12m, limit_utilisation=1.2, policy=ALL_RULES))) is fires


@pytest.mark.parametrize(("value", "held"), [(0.85, True), (0.79, False)], ids=["above-hold", "below-hold"])
def test_threshold_alert_is_held_until_the_value_falls_well_below(value: float, held: bool) -> None:
    first = evaluate(0.05, limit_utilisation=1.1, policy=ALL_RULES)
    second = evaluate(0.05, limit_utilisation=value, open_alerts=first.open, policy=ALL_RULES)
    assert (("utilisation", "1") in fired(second)) is held
    assert second.new.empty
    assert second.closed.empty is held


def test_customer_in_default_has_one_alert_instead_of_its_symptoms() -> None:
    update = evaluate(
        1.0,
        invoices=[invoice(days_past_due=120)],
        limit_utilisation=3.0,
        policy=ALL_RULES,
        in_default=True,
        default_date=pd.Timestamp("2025-03-01"),
    )
    (alert,) = update.records()
    assert (alert["alert_type"], alert["key"], alert["severity"]) == ("in_default", "2025-03-01", "severe")
    assert alert["text"] == "in default since 2025-03-01: supply stops until it cures"


def test_disabled_rule_does_not_fire() -> None:
    policy = policy_with({"alerts.pd_level.enabled": False})
    assert fired(evaluate(0.5)) == {("pd_level", "0.17")}
    assert fired(evaluate(0.5, policy=policy)) == set()


def test_alert_texts_in_chinese() -> None:
    update = evaluate(invoices=[invoice(days_past_due=65, open_amount=1234.5)], lang="zh")
    record = update.records()[0]
    assert record["text"] == "1张发票逾期超过60天，未结金额1,234.50；最久逾期65天（I1）"
    assert record["action_text"] == "停止供货并发出正式催款函"


def test_same_condition_twice_is_raised_once() -> None:
    first = evaluate(0.35, invoices=[invoice(days_past_due=40)])
    second = evaluate(0.35, invoices=[invoice(days_past_due=45)], open_alerts=first.open)
    assert len(first.new) == 2
    assert second.new.empty
    assert set(second.open["status"]) == {"open"}
    assert second.closed.empty


def test_condition_gone_closes_the_alert_and_a_new_tier_is_new() -> None:
    first = evaluate(0.35, invoices=[invoice("I1", days_past_due=40), invoice("I2", days_past_due=50)])
    second = evaluate(0.05, invoices=[invoice("I1", days_past_due=65)], open_alerts=first.open)
    assert set(zip(second.closed["alert_type"], second.closed["key"], strict=True)) == {
        ("pd_level", "0.17"),
        ("overdue_invoice", "over_30"),
    }
    assert set(second.closed["status"]) == {"resolved"}
    assert set(zip(second.new["alert_type"], second.new["key"], strict=True)) == {
        ("overdue_invoice", "over_60")
    }


def test_alerts_of_customers_not_evaluated_stay_open() -> None:
    others = pd.DataFrame([{"customer_id": "C2", "alert_type": "pd_level", "key": "0.17"}])
    assert evaluate(open_alerts=others).closed.empty


def test_has_severe_feeds_the_limit_review() -> None:
    update = evaluate(0.35)
    assert update.has_severe(["C1", "C2"]).tolist() == [True, False]


def test_missing_feature_names_the_policy_key() -> None:
    current = pd.DataFrame(
        [{"customer_id": "C1", "pd_12m": 0.01, "limit_utilisation": 0.1, "days_beyond_terms_mean_365d": 1.0}]
    )
    with pytest.raises(
        PolicyError,
        match=r"alerts.payment_trend.recent_feature names the column 'days_beyond_terms_mean_90d'",
    ):
        evaluate_alerts(
            ALL_RULES,
            current,
            pd.DataFrame(columns=["customer_id", "invoice_id", "days_past_due", "open_amount"]),
        )


def test_invoice_table_without_required_columns_is_rejected() -> None:
    current = pd.DataFrame([{"customer_id": "C1", "pd_12m": 0.01, **QUIET}])
    with pytest.raises(ValueError, match=r"open_invoices lacks the column\(s\) open_amount"):
        evaluate_alerts(POLICY, current, pd.DataFrame(columns=["customer_id", "invoice_id", "days_past_due"]))


def test_repeated_customer_is_rejected() -> None:
    current = pd.DataFrame([{"customer_id": "C1", "pd_12m": 0.01, **QUIET}] * 2)
    with pytest.raises(ValueError, match=r"one row per customer_id; repeated: 'C1'"):
        evaluate_alerts(
            POLICY,
            current,
            pd.DataFrame(columns=["customer_id", "invoice_id", "days_past_due", "open_amount"]),
        )


def test_collection_tiers_and_actions() -> None:
    assert collection_tier([np.nan, -5, 0, 1, 30, 31, 60, 61, 90, 91], POLICY.collection).tolist() == [
        0,
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        3,
        4,
    ]
    plan = collection_plan(
        pd.DataFrame({"days_past_due": [0, 10, 45, 100], "is_disputed": [False, False, True, False]}),
        POLICY,
        lang="zh",
    )
    assert plan["collection_action"].tolist() == ["none", "reminder", "resolve_dispute", "legal_action"]
    assert plan["collection_action_text"].iloc[1] == "发送付款提醒"


CUSTOMER = st.fixed_dictionaries(
    {
        "pd_12m": st.floats(0, 1),
        "previous_pd": st.one_of(st.none(), st.floats(0, 1)),
        "limit_utilisation": st.one_of(st.just(np.nan), st.floats(0, 2)),
        "days_beyond_terms_mean_90d": st.one_of(st.just(np.nan), st.floats(-20, 80)),
        "days_beyond_terms_mean_365d": st.one_of(st.just(np.nan), st.floats(-20, 80)),
        "invoices": st.lists(st.tuples(st.integers(-30, 200), st.booleans()), max_size=3),
        "remembered": st.lists(
            st.sampled_from(
                [
                    "pd_level:0.1",
                    "pd_level:0.17",
                    "pd_jump:pd_jump",
                    "utilisation:1",
                    "overdue_invoice:over_30",
                ]
            ),
            max_size=2,
        ),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CUSTOMER, min_size=1, max_size=6))
def test_one_customer_at_a_time_equals_the_portfolio(customers: list[dict[str, Any]]) -> None:
    ids = [f"C{i}" for i in range(len(customers))]
    features = ["limit_utilisation", "days_beyond_terms_mean_90d", "days_beyond_terms_mean_365d"]
    current = pd.DataFrame(
        [
            {"customer_id": cid, "pd_12m": c["pd_12m"], **{f: c[f] for f in features}}
            for cid, c in zip(ids, customers, strict=True)
        ]
    )
    previous = pd.DataFrame(
        [
            {"customer_id": cid, "pd_12m": c["previous_pd"], "grade": POLICY.grade(c["previous_pd"])}
            for cid, c in zip(ids, customers, strict=True)
            if c["previous_pd"] is not None
        ],
        columns=["customer_id", "pd_12m", "grade"],
    )
    invoices = pd.DataFrame(
        [
            {"customer_id": cid, **invoice(str(k), days, 100.0 + k, disputed)}
            for cid, c in zip(ids, customers, strict=True)
            for k, (days, disputed) in enumerate(c["invoices"])
        ],
        columns=["customer_id", "invoice_id", "days_past_due", "open_amount", "is_disputed"],
    )
    remembered = pd.DataFrame(
        [
            {"customer_id": cid, "alert_type": item.split(":", 1)[0], "key": item.split(":", 1)[1]}
            for cid, c in zip(ids, customers, strict=True)
            for item in c["remembered"]
        ],
        columns=["customer_id", "alert_type", "key"],
    )
    batch = evaluate_alerts(ALL_RULES, current, invoices, previous, remembered)
    single_open, single_closed = [], []
    for cid, c in zip(ids, customers, strict=True):
        last = (
            None
            if c["previous_pd"] is None
            else {"pd_12m": c["previous_pd"], "grade": POLICY.grade(c["previous_pd"])}
        )
        one = evaluate_customer_alerts(
            ALL_RULES,
            cid,
            {f: c[f] for f in features},
            c["pd_12m"],
            invoices[invoices["customer_id"] == cid],
            last,
            remembered[remembered["customer_id"] == cid],
        )
        single_open += one.records()
        single_closed += one.closed[["customer_id", "alert_type", "key"]].to_dict("records")
    assert batch.records() == single_open
    assert batch.closed[["customer_id", "alert_type", "key"]].to_dict("records") == single_closed


EXPECTED_LOSS_ON = policy_with({"alerts.expected_loss.enabled": True})


@pytest.mark.parametrize(
    ("pd_12m", "open_balance", "fires"),
    [(0.05, 39_990.0, False), (0.05, 40_000.0, True), (0.5, 3_990.0, False), (0.01, 250_000.0, True)],
    ids=["just-under", "at-threshold", "high-pd-small-balance", "low-pd-large-balance"],
)
def test_expected_loss_is_pd_times_open_balance(pd_12m: float, open_balance: float, fires: bool) -> None:
    update = evaluate(pd_12m, policy=EXPECTED_LOSS_ON, open_balance=open_balance)
    raised = update.open[update.open["alert_type"] == "expected_loss"]
    assert (len(raised) == 1) is fires
    if fires:
        (alert,) = raised.to_dict("records")
        assert alert["severity"] == "severe" and alert["key"] == "2000"
        assert alert["facts"]["value"] == pytest.approx(pd_12m * open_balance)


def test_expected_loss_text_in_both_languages() -> None:
    english = evaluate(0.1, policy=EXPECTED_LOSS_ON, open_balance=30_000.0).records()
    chinese = evaluate(0.1, policy=EXPECTED_LOSS_ON, open_balance=30_000.0, lang="zh").records()
    assert [a["text"] for a in english if a["alert_type"] == "expected_loss"] == [
        "expected loss 3,000 (12-month PD × open balance) is at or above 2,000"
    ]
    assert [a["text"] for a in chinese if a["alert_type"] == "expected_loss"] == [
        "预期损失3,000（12个月违约概率×未结余额），达到或超过2,000"
    ]


def test_expected_loss_without_the_exposure_feature_names_the_policy_key() -> None:
    with pytest.raises(PolicyError, match="credit_limit.exposure_feature"):
        evaluate(0.1, policy=EXPECTED_LOSS_ON)


def test_expected_loss_rule_reads_only_the_expected_loss() -> None:
    with pytest.raises(PolicyError, match="alerts.expected_loss.feature must be 'expected_loss'"):
        policy_with({"alerts.expected_loss.feature": "open_balance"})
