"""Onboarding decision for a new customer: approve, review, prepayment_or_guarantee or decline.

The grade band decides first: grades up to ``approve_max_grade`` approve, up to
``review_max_grade`` go to review, up to ``prepayment_max_grade`` trade on prepayment or
a bank guarantee, worse grades are declined. The initial limit is the exposure asked
for, capped by the grade's ``max_initial_limit`` and the firmographic caps of the credit
limit formula; an approvable applicant asking more than the cap goes to review.

Without an onboarding model, :func:`decide_onboarding_by_rules` takes the grade from the
policy's ``onboarding.rules`` (bureau score, years in business, revenue bands) and then
decides the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from riskmodel.jsonable import to_jsonable
from riskmodel.policy.config import N_GRADES, RULE_FIELDS, OnboardingPolicy, OnboardingRules, Policy
from riskmodel.policy.limits import RationaleStep, firmographic_caps, round_down
from riskmodel.policy.texts import check_lang, render

DECISIONS: tuple[str, ...] = ("approve", "review", "prepayment_or_guarantee", "decline")


@dataclass(frozen=True)
class OnboardingDecision:
    """The decision on an application, its initial limit and the steps behind it."""

    decision: str
    pd_12m: float  # the model's PD, or with the rules the grade's central PD on the master scale
    grade: int
    initial_limit: float
    requested_limit: float | None
    steps: tuple[RationaleStep, ...]
    text: str
    policy_version: str

    def rationale(self) -> dict[str, Any]:
        """Steps and text as plain data for a response."""
        return {
            "steps": [asdict(step) for step in self.steps],
            "text": self.text,
            "policy_version": self.policy_version,
        }


def band_bounds(onboarding: OnboardingPolicy) -> dict[str, tuple[int, int]]:
    """First and last grade of each decision band (a band may be empty: first > last)."""
    highs = (onboarding.approve_max_grade, onboarding.review_max_grade, onboarding.prepayment_max_grade, 10)
    lows = (1, *(high + 1 for high in highs[:-1]))
    return {band: (low, high) for band, low, high in zip(DECISIONS, lows, highs, strict=True)}


def grade_band(grade: int, onboarding: OnboardingPolicy) -> str:
    """The decision band a grade falls in."""
    return next(band for band, (low, high) in band_bounds(onboarding).items() if low <= grade <= high)


def initial_limit_cap(
    grade: int, application: Mapping[str, Any], policy: Policy, lang: str
) -> tuple[float, list[RationaleStep]]:
    """The largest initial limit for this grade and application, with the steps that set it."""
    grade_cap = float(policy.onboarding.max_initial_limit[grade - 1])
    steps = [
        RationaleStep(
            "cap_grade", grade_cap, render("onboarding.cap_grade", lang, grade=grade, value=grade_cap)
        )
    ]
    revenue, capital = (_number(application.get(name)) for name in ("annual_revenue", "registered_capital"))
    caps = firmographic_caps([revenue], [capital], policy.credit_limit)
    shares = {
        "cap_annual_revenue": (revenue, policy.credit_limit.max_share_of_annual_revenue),
        "cap_registered_capital": (capital, policy.credit_limit.max_share_of_registered_capital),
    }
    for rule, (base, share) in shares.items():
        value = float(caps[rule][0])
        if not np.isnan(value):
            steps.append(
                RationaleStep(rule, value, render(f"limit.{rule}", lang, value=value, share=share, base=base))
            )
    cap = float(round_down(min(step.value for step in steps), policy.credit_limit.rounding))
    steps.append(
        RationaleStep(
            "cap", cap, render("onboarding.cap", lang, value=cap, rounding=policy.credit_limit.rounding)
        )
    )
    return cap, steps


def _number(value: Any) -> float:
    value = to_jsonable(value)
    return float("nan") if value is None else float(value)


def _approve_or_review(
    band: str, cap: float, requested: float | None, lang: str
) -> tuple[str, float, RationaleStep]:
    """Decision and initial limit inside the approve and review bands, from the exposure asked for."""
    if requested is None:
        decision = band if cap > 0 else "review"
        detail = render("onboarding.requested_none", lang) if cap > 0 else render("onboarding.cap_zero", lang)
        return decision, cap, RationaleStep("requested", None, detail)
    if requested <= cap:
        return (
            band,
            requested,
            RationaleStep(
                "requested", requested, render("onboarding.requested_within", lang, requested=requested)
            ),
        )
    return (
        "review",
        cap,
        RationaleStep(
            "requested", requested, render("onboarding.requested_above", lang, requested=requested, value=cap)
        ),
    )


def decide_onboarding(
    policy: Policy,
    pd_12m: float,
    requested_limit: float | None = None,
    application: Mapping[str, Any] | None = None,
    lang: str = "en",
) -> OnboardingDecision:
    """Decide on an application from its 12-month PD, the exposure asked for and firmographics.

    ``application`` may hold ``annual_revenue`` and ``registered_capital`` (used for caps when known).
    """
    check_lang(lang)
    grade = int(policy.grade(pd_12m))
    grade_text = render("onboarding.grade", lang, grade=grade, pd_12m=pd_12m)
    step = RationaleStep("grade", float(grade), grade_text)
    return _decide(policy, grade, float(pd_12m), [step], grade_text, requested_limit, application, lang)


def rules_grade(
    rules: OnboardingRules, application: Mapping[str, Any], lang: str = "en"
) -> tuple[int, list[RationaleStep]]:
    """Grade of an application by the policy's onboarding rules, with one step per field that moved it."""
    grade = rules.base_grade
    steps = [RationaleStep("rules_base", float(grade), render("onboarding.rules_base", lang, grade=grade))]
    for name in RULE_FIELDS:
        value = _number(application.get(name))
        if np.isnan(value):
            continue
        bands = getattr(rules, name)
        band = next((b for b in bands if value >= b.at_least), bands[-1])
        grade += band.notches
        steps.append(
            RationaleStep(
                f"rules_{name}",
                float(band.notches),
                render(
                    f"onboarding.rules_{name}",
                    lang,
                    value=value,
                    at_least=band.at_least,
                    notches=band.notches,
                ),
            )
        )
    return min(max(grade, 1), N_GRADES), steps


def decide_onboarding_by_rules(
    policy: Policy,
    application: Mapping[str, Any],
    requested_limit: float | None = None,
    lang: str = "en",
) -> OnboardingDecision:
    """Decide on an application without a model: the grade from ``onboarding.rules``, then as usual.

    The PD is the master scale's central PD of that grade (a policy figure, not a model estimate).
    """
    check_lang(lang)
    grade, steps = rules_grade(policy.onboarding.rules, application, lang)
    grade_text = render("onboarding.grade_rules", lang, grade=grade)
    steps.append(RationaleStep("grade", float(grade), grade_text))
    return _decide(
        policy, grade, policy.central_pd(grade), steps, grade_text, requested_limit, application, lang
    )


def _decide(
    policy: Policy,
    grade: int,
    pd_12m: float,
    steps: list[RationaleStep],
    grade_text: str,
    requested_limit: float | None,
    application: Mapping[str, Any] | None,
    lang: str,
) -> OnboardingDecision:
    """Band, initial limit and text once the grade is known."""
    if requested_limit is not None and not requested_limit >= 0:
        raise ValueError(f"requested_limit must be a non-negative amount or None; got {requested_limit!r}")
    band = grade_band(grade, policy.onboarding)
    low, high = band_bounds(policy.onboarding)[band]
    steps = [
        *steps,
        RationaleStep(
            "band", float(grade), render(f"onboarding.band.{band}", lang, grade=grade, low=low, high=high)
        ),
    ]
    decision, initial = band, 0.0
    if band in ("approve", "review"):
        cap, cap_steps = initial_limit_cap(grade, application or {}, policy, lang)
        decision, initial, requested_step = _approve_or_review(band, cap, requested_limit, lang)
        steps += [*cap_steps, requested_step]
    decision_text = render(f"decision.{decision}", lang)
    decision_text = decision_text[:1].upper() + decision_text[1:]
    text = render(
        "onboarding.summary", lang, decision=decision_text, initial_limit=initial, grade_text=grade_text
    )
    return OnboardingDecision(
        decision, pd_12m, grade, float(initial), requested_limit, tuple(steps), text, policy.version
    )
