"""Onboarding decision table: grade band x exposure asked for, caps, rationale and languages."""

from __future__ import annotations

import pytest

from riskmodel.policy.config import load_policy
from riskmodel.policy.onboarding import DECISIONS, band_bounds, decide_onboarding
from tests.unit.test_policy_config import policy_with

POLICY = load_policy()


def test_decisions_are_the_design_names() -> None:
    assert DECISIONS == ("approve", "review", "prepayment_or_guarantee", "decline")


@pytest.mark.parametrize(
    ("pd_12m", "requested", "decision", "initial_limit"),
    [
        (0.005, 100_000.0, "approve", 100_000),  # grade 2, cap 150,000
        (0.005, 150_000.0, "approve", 150_000),  # exactly the cap
        (0.005, 200_000.0, "review", 150_000),  # above the cap: an officer decides on the excess
        (0.005, None, "approve", 150_000),  # nothing asked: the cap is offered
        (0.03, 10_000.0, "review", 10_000),  # grade 5 is in the review band
        (0.03, 90_000.0, "review", 40_000),  # grade 5 cap 40,000
        (0.08, 10_000.0, "prepayment_or_guarantee", 0),  # grade 7
        (0.17, None, "prepayment_or_guarantee", 0),  # grade 8, upper bound of the band
        (0.25, 10_000.0, "decline", 0),  # grade 9
        (0.9, 10_000.0, "decline", 0),  # grade 10
    ],
    ids=[
        "approve",
        "approve-at-cap",
        "above-cap-review",
        "no-request",
        "review-band",
        "review-band-capped",
        "prepayment",
        "prepayment-edge",
        "decline-9",
        "decline-10",
    ],
)
def test_decision_table(pd_12m: float, requested: float | None, decision: str, initial_limit: float) -> None:
    result = decide_onboarding(POLICY, pd_12m, requested)
    assert (result.decision, result.initial_limit) == (decision, initial_limit)


def test_bands_cover_every_grade_once() -> None:
    bounds = band_bounds(POLICY.onboarding)
    covered = [grade for low, high in bounds.values() for grade in range(low, high + 1)]
    assert covered == list(range(1, 11))


def test_firmographic_caps_lower_the_initial_limit() -> None:
    # grade 1 cap 200,000; 10% of revenue 500,000 = 50,000; 50% of capital 300,000 = 150,000
    result = decide_onboarding(
        POLICY, 0.001, 60_000.0, {"annual_revenue": 500_000, "registered_capital": 300_000}
    )
    assert (result.decision, result.initial_limit) == ("review", 50_000)
    assert [step.rule for step in result.steps] == [
        "grade",
        "band",
        "cap_grade",
        "cap_annual_revenue",
        "cap_registered_capital",
        "cap",
        "requested",
    ]


def test_zero_cap_goes_to_review() -> None:
    result = decide_onboarding(
        POLICY, 0.001, None, {"registered_capital": 1_000}
    )  # 50% of 1,000 rounds down to 0
    assert (result.decision, result.initial_limit) == ("review", 0)


def test_empty_approve_band_sends_best_grades_to_review() -> None:
    policy = policy_with({"onboarding.approve_max_grade": 0})
    assert decide_onboarding(policy, 0.001, 1_000.0).decision == "review"


def test_rationale_text_in_both_languages() -> None:
    english = decide_onboarding(POLICY, 0.005, 100_000.0)
    chinese = decide_onboarding(POLICY, 0.005, 100_000.0, lang="zh")
    assert english.text == "Approve: initial limit 100,000 (grade 2 from 12-month PD 0.50%)."
    assert chinese.text == "批准：初始额度100,000（12个月违约概率0.50%，风险等级2级）。"
    assert english.rationale()["policy_version"] == POLICY.version


def test_negative_request_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"requested_limit must be a non-negative amount or None; got -5"):
        decide_onboarding(POLICY, 0.01, -5)
