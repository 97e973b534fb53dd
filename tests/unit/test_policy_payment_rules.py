"""Payment-behaviour rules: each step at its band edges, the sum and its clipping, PDs, reasons, config errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.exceptions import PolicyError
from riskmodel.features.definitions import FeatureConfig
from riskmodel.policy.config import PAYMENT_RULE_NAMES, load_policy
from riskmodel.policy.payment_rules import grade_by_payment_rules, rule_features, rule_notches
from riskmodel.scoring import ModelBundle
from tests.unit.test_policy_config import DELETE, policy_with

POLICY = load_policy()
RULES = POLICY.payment_rules
NEUTRAL = {  # a customer no rule moves
    "max_days_past_due": 0.0,
    "share_paid_late_180d": 0.2,
    "days_beyond_terms_mean_180d": 5.0,
    "n_disputes_open": 0,
}


def features(**values: float) -> pd.DataFrame:
    return pd.DataFrame([NEUTRAL | values])


@pytest.mark.parametrize(
    ("rule", "value", "notches"),
    [
        ("past_due", -40, 0),
        ("past_due", 30, 0),
        ("past_due", 31, 2),
        ("past_due", 60, 2),
        ("past_due", 61, 3),
        ("past_due", 90, 3),
        ("past_due", 91, 4),
        ("paid_late", 0.0, -1),
        ("paid_late", 0.0999, -1),
        ("paid_late", 0.1, 0),
        ("paid_late", 0.2999, 0),
        ("paid_late", 0.3, 1),
        ("paid_late", 0.6, 2),
        ("paid_late", 1.0, 2),
        ("days_beyond_terms", -12.5, -1),
        ("days_beyond_terms", 0.99, -1),
        ("days_beyond_terms", 1, 0),
        ("days_beyond_terms", 9.99, 0),
        ("days_beyond_terms", 10, 1),
        ("days_beyond_terms", 29.9, 1),
        ("days_beyond_terms", 30, 2),
        ("disputes", 0, 0),
        ("disputes", 1, 1),
        ("disputes", 4, 1),
    ],
    ids=lambda v: str(v),
)
def test_each_rule_step_at_its_band_edges(rule: str, value: float, notches: int) -> None:
    _, got = rule_notches(RULES.rules[rule], np.array([float(value)]))
    assert got.tolist() == [notches]
    scored = grade_by_payment_rules(POLICY, features(**{RULES.rules[rule].feature: value}))
    assert scored.grade.tolist() == [RULES.base_grade + notches]


def test_a_missing_value_moves_nothing_and_says_no_data() -> None:
    band, notches = rule_notches(RULES.past_due, np.array([np.nan, 45.0]))
    assert band.tolist() == [-1, 2] and notches.tolist() == [0, 2]
    scored = grade_by_payment_rules(POLICY, features(max_days_past_due=np.nan, share_paid_late_180d=np.nan))
    assert scored.grade.tolist() == [RULES.base_grade]
    step = next(r for r in scored.reasons[0] if r["rule"] == "past_due")
    assert step["value"] is None and step["contribution"] == 0 and "no data" in step["description"]


def test_a_value_below_every_band_takes_the_last_band() -> None:
    policy = policy_with(
        {"payment_rules.disputes.bands": [{"at_least": 2, "notches": 2}, {"at_least": 1, "notches": 1}]}
    )
    _, notches = rule_notches(policy.payment_rules.disputes, np.array([0.0, 1.0, 5.0]))
    assert notches.tolist() == [1, 1, 2]


def test_steps_add_up_and_the_sum_is_clipped_to_the_scale() -> None:
    worst = features(
        max_days_past_due=95, share_paid_late_180d=0.9, days_beyond_terms_mean_180d=40, n_disputes_open=2
    )
    best = features(max_days_past_due=-5, share_paid_late_180d=0.0, days_beyond_terms_mean_180d=-3)
    both = pd.concat([worst, best], ignore_index=True)
    assert grade_by_payment_rules(POLICY, both).grade.tolist() == [10, RULES.base_grade - 2]  # 4+4+2+2+1 = 13
    floor = policy_with({"payment_rules.base_grade": 1})
    assert grade_by_payment_rules(floor, best).grade.tolist() == [1]  # 1-2 = -1


def test_pd_is_the_central_pd_of_the_rule_grade() -> None:
    rows = pd.DataFrame(
        [
            NEUTRAL | {"max_days_past_due": d, "share_paid_late_180d": s}
            for d in (0, 40, 70, 95)
            for s in (0, 0.5)
        ]
    )
    scored = grade_by_payment_rules(POLICY, rows)
    assert scored.pd_12m.tolist() == [POLICY.central_pd(g) for g in scored.grade]
    np.testing.assert_array_equal(POLICY.grade(scored.pd_12m), scored.grade)
    order = np.argsort(scored.grade, kind="stable")
    assert (np.diff(scored.pd_12m[order]) >= 0).all()  # a worse grade never has a lower PD


def test_reasons_are_the_steps_risk_raising_first_then_the_base() -> None:
    scored = grade_by_payment_rules(POLICY, features(max_days_past_due=45, share_paid_late_180d=0.05))
    reasons = scored.reasons[0]
    assert [r["rule"] for r in reasons] == ["past_due", "days_beyond_terms", "disputes", "paid_late", "base"]
    assert [r["contribution"] for r in reasons] == [2.0, 0.0, 0.0, -1.0, 0.0]
    assert reasons[-1]["value"] == RULES.base_grade
    assert reasons[-1]["value"] + sum(r["contribution"] for r in reasons) == scored.grade[0]
    assert reasons[0]["feature"] == "max_days_past_due" and reasons[0]["value"] == 45
    assert (
        reasons[0]["description"]
        == "days past due of the oldest open invoice: 45 (31 to below 61): +2 notch(es)"
    )
    assert "5% (below 10%): -1 notch(es)" in reasons[3]["description"]


def test_reasons_speak_chinese() -> None:
    reasons = grade_by_payment_rules(POLICY, features(n_disputes_open=1), lang="zh").reasons[0]
    assert reasons[0]["description"] == "争议中的未结发票数：1（1及以上）：调整+1级"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r["description"]) for r in reasons)


def test_an_empty_table_gives_empty_scores() -> None:
    scored = grade_by_payment_rules(POLICY, features().iloc[:0])
    assert len(scored.grade) == 0 and scored.reasons == []


def test_the_rules_name_registry_features() -> None:
    assert list(rule_features(RULES, FeatureConfig())) == list(PAYMENT_RULE_NAMES)
    with pytest.raises(
        PolicyError,
        match=r"payment_rules.paid_late.feature 'share_paid_late_180d' is not a customer feature with the feature windows \[90, 365\]",
    ):
        rule_features(RULES, FeatureConfig(windows_days=(90, 365)))


def test_a_bundle_without_a_default_model_checks_the_rule_features_at_once() -> None:
    assert ModelBundle(policy=POLICY).basis == "rules"
    unknown = policy_with({"payment_rules.paid_late.feature": "share_paid_late_45d"})
    with pytest.raises(PolicyError, match="payment_rules.paid_late.feature 'share_paid_late_45d'"):
        ModelBundle(policy=unknown)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"payment_rules.base_grade": 0}, "payment_rules.base_grade must be within 1..10; got 0"),
        (
            {
                "payment_rules.past_due.bands": [
                    {"at_least": 31, "notches": 0},
                    {"at_least": 61, "notches": 2},
                ]
            },
            r"payment_rules.past_due.bands: at_least must be strictly decreasing \(highest band first\); got \[31.0, 61.0\]",
        ),
        (
            {
                "payment_rules.past_due.bands": [
                    {"at_least": 61, "notches": 0},
                    {"at_least": 31, "notches": 2},
                ]
            },
            r"payment_rules.past_due.bands: notches must not increase .* \(a higher value never betters the grade\); got \[0, 2\]",
        ),
        ({"payment_rules.disputes.bands": []}, "payment_rules.disputes.bands must list at least one band"),
        (
            {"payment_rules.disputes.feature": " "},
            "payment_rules.disputes.feature must name a customer feature",
        ),
        ({"payment_rules": DELETE}, "payment_rules is missing"),
        ({"payment_rules.disputes": DELETE}, "payment_rules.disputes is missing"),
    ],
    ids=["base", "order", "direction", "no-band", "no-feature", "no-section", "no-rule"],
)
def test_bad_rules_are_refused_naming_the_key(changes: dict, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        policy_with(changes)


def test_the_rules_reach_every_grade_from_two_to_ten() -> None:
    """No grade in the rules' range is unreachable, so the master scale stays populated."""
    grid = [
        NEUTRAL
        | {
            "max_days_past_due": d,
            "share_paid_late_180d": s,
            "days_beyond_terms_mean_180d": b,
            "n_disputes_open": n,
        }
        for d in (0, 40, 70, 95)
        for s in (0.0, 0.2, 0.4, 0.8)
        for b in (-1.0, 5.0, 15.0, 40.0)
        for n in (0, 1)
    ]
    grades = set(grade_by_payment_rules(POLICY, pd.DataFrame(grid)).grade.tolist())
    assert grades == set(range(2, 11))
