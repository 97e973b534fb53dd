"""Credit-limit formula (hand-computed numbers), each review rule, rationale, portfolio = one customer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from riskmodel.exceptions import PolicyError
from riskmodel.policy.config import load_policy
from riskmodel.policy.limits import limit_rationale_texts, recommend_limit, recommend_limits
from tests.unit.test_policy_config import policy_with

POLICY = load_policy()
# The review rules below are shown on grade 3 without the keep rule (tested on its own).
NO_KEEP = policy_with({"credit_limit.review.keep_max_grade": 0})

# 365,000 invoiced over a full year -> 30,000 a month; 60-day terms -> trade need 60,000;
# grade 3 factor 1.3 -> 78,000. Clean record: longest delay 3 days, nothing past due.
BASE = {
    "invoiced_amount_365d": 365_000.0,
    "tenure_days": 800.0,
    "payment_terms_days": 60.0,
    "annual_revenue": np.nan,
    "registered_capital": np.nan,
    "max_days_past_due": np.nan,
    "days_beyond_terms_max_180d": 3.0,
    "credit_limit": np.nan,
    "dso_90d": np.nan,
    "open_balance": 0.0,
    "open_balance_prev_90d": np.nan,
}


def features(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


def test_formula_with_hand_computed_numbers() -> None:
    result = recommend_limit(POLICY, features(), grade=3)
    values = {step.rule: step.value for step in result.steps}
    assert values["monthly_volume"] == pytest.approx(30_000)
    assert values["trade_exposure"] == pytest.approx(60_000)
    assert values["grade_limit"] == pytest.approx(78_000)
    assert result.target_limit == 78_000
    assert result.recommended_limit == 78_000
    assert result.rule == "initial"


def test_short_tenure_and_missing_terms_use_observed_days_and_default_terms() -> None:
    # 50,000 over 100 days -> 15,000 a month; default terms 30 -> 15,000; grade 5 x 1.1 = 16,500 -> rounded down 16,000
    result = recommend_limit(
        POLICY, features(invoiced_amount_365d=50_000.0, tenure_days=100.0, payment_terms_days=np.nan), grade=5
    )
    assert result.target_limit == 16_000


def test_firmographic_caps_apply_when_present() -> None:
    # 10% of revenue 500,000 = 50,000; 50% of capital 60,000 = 30,000 -> the capital cap binds
    limits = recommend_limits(
        POLICY, pd.DataFrame([features(annual_revenue=500_000.0, registered_capital=60_000.0)]), [3]
    )
    row = limits.iloc[0]
    assert (row["cap_annual_revenue"], row["cap_registered_capital"]) == (50_000, 30_000)
    assert row["target_limit"] == 30_000
    assert row["target_basis"] == "cap_registered_capital"


def test_policy_maximum_and_worst_grade() -> None:
    assert recommend_limit(POLICY, features(invoiced_amount_365d=1e10), grade=1).target_limit == 2_000_000
    assert recommend_limit(POLICY, features(), grade=10).target_limit == 0


def test_missing_firmographic_columns_are_not_an_error() -> None:
    frame = pd.DataFrame([features()]).drop(columns=["annual_revenue", "registered_capital"])
    assert recommend_limits(POLICY, frame, [3])["target_limit"].iloc[0] == 78_000


@pytest.mark.parametrize(
    ("changes", "severe", "recommended", "rule"),
    [
        ({"credit_limit": 70_000.0}, False, 78_000, "target"),
        ({"credit_limit": 78_000.0}, False, 78_000, "unchanged"),
        ({"credit_limit": 40_000.0}, False, 50_000, "step_cap_increase"),  # +25% of 40,000
        ({"credit_limit": 200_000.0}, False, 100_000, "step_cap_decrease"),  # -50% of 200,000
        ({"credit_limit": 40_000.0}, True, 40_000, "freeze_severe_alert"),
        (
            {"credit_limit": 100_000.0},
            True,
            78_000,
            "freeze_severe_alert",
        ),  # a freeze still lets the limit fall to target
        (
            {"credit_limit": 40_000.0, "max_days_past_due": 95.0},
            False,
            20_000,
            "cut_past_due",
        ),  # 50% of 40,000
        (
            {"credit_limit": 200_000.0, "max_days_past_due": 120.0},
            False,
            78_000,
            "cut_past_due",
        ),  # a cut is not held by the step cap
        (
            {"credit_limit": 40_000.0, "max_days_past_due": 90.0},
            False,
            40_000,
            "no_growth_without_clean_record",
        ),  # 90 is not over 90
        (
            {"credit_limit": 40_000.0, "days_beyond_terms_max_180d": 20.0},
            False,
            40_000,
            "no_growth_without_clean_record",
        ),
        (
            {"credit_limit": 40_000.0, "days_beyond_terms_max_180d": np.nan},
            False,
            40_000,
            "no_growth_without_clean_record",
        ),
        (
            {"credit_limit": 100_000.0, "days_beyond_terms_max_180d": 20.0},
            False,
            78_000,
            "target",
        ),  # decreases need no clean record
        ({"credit_limit": 40_500.0}, False, 50_000, "step_cap_increase"),  # 50,625 rounded down
        (
            {"credit_limit": 200_500.0},
            False,
            101_000,
            "step_cap_decrease",
        ),  # 100,250 rounded up: the step cap holds
        ({"max_days_past_due": 95.0}, False, 0, "cut_past_due"),  # no current limit and 90+ days past due
    ],
    ids=[
        "to-target",
        "unchanged",
        "step-cap-up",
        "step-cap-down",
        "freeze-severe",
        "freeze-allows-decrease",
        "cut-90-plus",
        "cut-ignores-step-cap",
        "boundary-90-no-cut",
        "growth-needs-clean-record",
        "no-record-no-growth",
        "decrease-without-clean-record",
        "round-increase-down",
        "round-capped-decrease-up",
        "initial-with-breach",
    ],
)
def test_review_rules(changes: dict[str, Any], severe: bool, recommended: float, rule: str) -> None:
    result = recommend_limit(NO_KEEP, features(**changes), grade=3, has_severe_alert=severe)
    assert (result.recommended_limit, result.rule) == (recommended, rule)


@pytest.mark.parametrize(
    ("grade", "severe", "recommended", "rule"),
    [
        (5, False, 200_000, "keep_good_grade"),
        (6, False, 100_000, "step_cap_decrease"),
        (5, True, 100_000, "step_cap_decrease"),  # a severe alert: not kept, falls to the step cap
    ],
    ids=["grade-5-kept", "grade-6-not-kept", "breach-not-kept"],
)
def test_good_grades_keep_their_limit_without_a_breach(
    grade: int, severe: bool, recommended: float, rule: str
) -> None:
    result = recommend_limit(POLICY, features(credit_limit=200_000.0), grade=grade, has_severe_alert=severe)
    assert (result.recommended_limit, result.rule) == (recommended, rule)


@pytest.mark.parametrize(
    ("changes", "need"),
    [
        ({"dso_90d": 45.0}, 60_000),  # DSO shorter than the 60-day terms: the terms
        ({"dso_90d": 75.0}, 75_000),  # 30,000 a month x 75 / 30
        ({"open_balance": 90_000.0, "open_balance_prev_90d": 110_000.0}, 110_000),  # the highest balance seen
    ],
    ids=["terms", "dso-longer", "peak-balance"],
)
def test_trade_need_follows_days_to_pay_and_observed_exposure(changes: dict[str, Any], need: float) -> None:
    values = {step.rule: step.value for step in recommend_limit(POLICY, features(**changes), grade=6).steps}
    assert values["trade_exposure"] == pytest.approx(need)


@pytest.mark.parametrize(
    ("balance", "rule"),
    [(20_000.0, "cut_past_due"), (20_001.0, "stop_supply_below_exposure")],
    ids=["at-balance", "below-balance"],
)
def test_a_limit_below_the_open_balance_names_the_supply_stop(balance: float, rule: str) -> None:
    result = recommend_limit(
        POLICY, features(credit_limit=40_000.0, max_days_past_due=95.0, open_balance=balance), grade=3
    )
    assert (result.recommended_limit, result.rule) == (20_000, rule)
    stops = "no new supply until the balance is paid down" in result.text
    assert stops is (rule == "stop_supply_below_exposure")


def test_breach_modes_follow_the_policy() -> None:
    policy = policy_with(
        {"credit_limit.review.on_severe_alert": "cut", "credit_limit.review.on_past_due": "freeze"}
    )
    severe = recommend_limit(policy, features(credit_limit=40_000.0), grade=3, has_severe_alert=True)
    past_due = recommend_limit(policy, features(credit_limit=40_000.0, max_days_past_due=95.0), grade=3)
    assert (severe.recommended_limit, severe.rule) == (20_000, "cut_severe_alert")
    assert (past_due.recommended_limit, past_due.rule) == (40_000, "freeze_past_due")


def test_rationale_lists_every_step_with_its_numbers() -> None:
    result = recommend_limit(POLICY, features(credit_limit=40_000.0, annual_revenue=2_000_000.0), grade=3)
    rules = [step.rule for step in result.steps]
    assert rules == [
        "monthly_volume",
        "trade_exposure",
        "grade_limit",
        "cap_annual_revenue",
        "cap_max_limit",
        "target",
        "step_cap_increase",
    ]
    assert result.steps[-1].value == 50_000
    assert result.text.startswith(
        "Recommended limit 50,000: increase capped at +25% of the current 40,000 per review; target 78,000"
    )
    rationale = result.rationale()
    assert rationale["rule"] == "step_cap_increase" and rationale["policy_version"] == POLICY.version
    assert rationale["steps"][3] == {
        "rule": "cap_annual_revenue",
        "value": 200_000.0,
        "detail": "cap of 10% of annual revenue 2,000,000: 200,000",
    }


def test_rationale_in_chinese() -> None:
    result = recommend_limit(
        POLICY, features(credit_limit=40_000.0, max_days_past_due=95.0), grade=3, lang="zh"
    )
    assert result.text.startswith("建议额度20,000：有发票逾期95天（超过90天）")
    assert "月均开票金额30,000" in result.steps[0].detail


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"lang must be one of 'en', 'zh'; got 'fr'"):
        recommend_limit(POLICY, features(), grade=3, lang="fr")


def test_missing_required_feature_names_the_policy_key() -> None:
    frame = pd.DataFrame([features()]).drop(columns="invoiced_amount_365d")
    with pytest.raises(
        PolicyError, match=r"credit_limit.volume_feature names the column 'invoiced_amount_365d'"
    ):
        recommend_limits(POLICY, frame, [3])


def test_portfolio_equals_one_customer_at_a_time() -> None:
    rng = np.random.default_rng(1)
    n = 200
    frame = pd.DataFrame(
        {
            "invoiced_amount_365d": rng.lognormal(12, 1.5, n),
            "tenure_days": rng.integers(0, 2000, n).astype(float),
            "payment_terms_days": rng.choice([np.nan, 30.0, 45.0, 60.0], n),
            "annual_revenue": np.where(rng.random(n) < 0.5, rng.lognormal(15, 1, n), np.nan),
            "registered_capital": np.where(rng.random(n) < 0.5, rng.lognormal(13, 1, n), np.nan),
            "max_days_past_due": np.where(rng.random(n) < 0.7, rng.integers(-30, 150, n), np.nan),
            "days_beyond_terms_max_180d": np.where(rng.random(n) < 0.8, rng.integers(-5, 60, n), np.nan),
            "credit_limit": np.where(
                rng.random(n) < 0.8, rng.choice([0.0, 10_000.0, 55_500.0, 250_000.0], n), np.nan
            ),
        }
    )
    grades = rng.integers(1, 11, n)
    severe = rng.random(n) < 0.2
    frame["dso_90d"] = np.where(rng.random(n) < 0.8, rng.integers(10, 120, n), np.nan)
    frame["open_balance"] = rng.lognormal(9, 1.5, n)
    frame["open_balance_prev_90d"] = np.where(rng.random(n) < 0.8, rng.lognormal(9, 1.5, n), np.nan)
    batch = recommend_limits(NO_KEEP, frame, grades, has_severe_alert=severe)
    texts = limit_rationale_texts(batch, NO_KEEP)
    for i in range(n):
        one = recommend_limit(
            NO_KEEP, frame.iloc[i].to_dict(), int(grades[i]), has_severe_alert=bool(severe[i])
        )
        assert (one.recommended_limit, one.rule, one.text) == (
            batch["recommended_limit"].iloc[i],
            batch["limit_rule"].iloc[i],
            texts.iloc[i],
        )
    assert set(batch["limit_rule"]) >= {
        "initial",
        "target",
        "step_cap_increase",
        "cut_past_due",
        "freeze_severe_alert",
        "no_growth_without_clean_record",
    }
    changed = batch["current_limit"].notna() & ~batch["limit_rule"].isin(
        ["cut_past_due", "stop_supply_below_exposure"]
    )
    changed &= ~batch["breach_rule"].str.startswith("cut_")
    ratio = batch.loc[changed, "recommended_limit"] / batch.loc[changed, "current_limit"]
    assert ratio.between(0.5, 1.25).all()


def test_customer_in_default_gets_limit_zero_with_the_stop_supply_rule() -> None:
    policy = load_policy()
    for lang, words in (("en", "stop supply"), ("zh", "停止供货")):
        rec = recommend_limit(
            policy, features(), 3, current_limit=50_000, lang=lang, default_date=pd.Timestamp("2025-03-02")
        )
        assert rec.recommended_limit == 0 and rec.rule == "stop_supply"
        assert (
            [s.rule for s in rec.steps][-1] == "stop_supply"
            and words in rec.text
            and "2025-03-02" in rec.text
        )
    healthy = recommend_limit(policy, features(), 3, current_limit=50_000)
    assert healthy.recommended_limit > 0 and healthy.rule != "stop_supply"


def test_stop_supply_overrides_every_rule_in_a_portfolio() -> None:
    policy = load_policy()
    frame = pd.DataFrame([features(), features()])
    limits = recommend_limits(
        policy,
        frame,
        [1, 1],
        current_limit=[50_000, 50_000],
        default_date=[pd.NaT, pd.Timestamp("2025-05-01")],
    )
    assert limits["recommended_limit"].tolist()[1] == 0 and limits["recommended_limit"].tolist()[0] > 0
    assert limits["limit_rule"].tolist()[1] == "stop_supply"
    texts = limit_rationale_texts(limits, policy)
    assert "in default since 2025-05-01" in texts.iloc[1] and "in default" not in texts.iloc[0]
