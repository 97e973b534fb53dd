"""Credit-limit recommendation: a transparent formula, periodic review rules and the rationale.

Target limit (per customer)::

    monthly amount = volume_feature × 30 / days observed      (tenure clipped to the volume window)
    trade need     = max(monthly amount × days to pay / 30,    (days to pay: terms, or DSO when longer)
                         highest open balance observed)        (exposure_features)
    grade limit    = trade need × grade_multiplier[grade]
    target         = min(grade limit, share × annual revenue, share × registered capital, max_limit),
                     rounded down to ``rounding``                (firmographic caps only when known)

Review of an existing limit, in this order: an invoice past ``past_due_days`` cuts or
freezes it; otherwise an open severe alert cuts or freezes it; it grows only after a clean
payment record; a grade up to ``keep_max_grade`` keeps its current limit and is raised to
cover its current open balance when that is higher; it moves at most
``max_increase`` up or ``max_decrease`` down per review (cuts excepted). A limit below the
current open balance (``exposure_feature``) means no new supply until it is paid down: the
rationale says so (rule ``stop_supply_below_exposure``). A customer without a current limit gets the target (a breach gives 0).
A customer in default gets 0 whatever the rest says: supply stops (rule ``stop_supply``).

:func:`recommend_limits` computes every number for a whole portfolio with array
operations; :func:`recommend_limit` runs it on one customer and adds the rationale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskmodel.jsonable import to_jsonable
from riskmodel.policy.columns import numeric_column, optional_numeric_column
from riskmodel.policy.config import CreditLimitPolicy, Policy
from riskmodel.policy.texts import check_lang, format_value, render

BOUNDS = ("grade_limit", "cap_annual_revenue", "cap_registered_capital", "cap_max_limit")


@dataclass(frozen=True)
class RationaleStep:
    """One step of a rationale: the rule applied, the number it produced and a sentence."""

    rule: str
    value: float | None
    detail: str


@dataclass(frozen=True)
class LimitRecommendation:
    """A recommended limit with the rule that decided it and every step behind it."""

    recommended_limit: float
    current_limit: float | None
    target_limit: float
    rule: str
    steps: tuple[RationaleStep, ...]
    text: str
    policy_version: str

    def rationale(self) -> dict[str, Any]:
        """The ``limit_rationale`` object of a score response."""
        return {
            "rule": self.rule,
            "steps": [asdict(step) for step in self.steps],
            "text": self.text,
            "policy_version": self.policy_version,
        }


def firmographic_caps(
    annual_revenue: npt.ArrayLike, registered_capital: npt.ArrayLike, limits: CreditLimitPolicy
) -> dict[str, np.ndarray]:
    """Caps from shares of annual revenue and registered capital; NaN where the figure is unknown or not positive."""
    revenue = np.asarray(annual_revenue, dtype=float)
    capital = np.asarray(registered_capital, dtype=float)
    return {
        "cap_annual_revenue": np.where(revenue > 0, revenue * limits.max_share_of_annual_revenue, np.nan),
        "cap_registered_capital": np.where(
            capital > 0, capital * limits.max_share_of_registered_capital, np.nan
        ),
    }


def round_down(values: npt.ArrayLike, rounding: float) -> np.ndarray:
    """Round down to a multiple of ``rounding``."""
    return np.floor(np.asarray(values, dtype=float) / rounding) * rounding


Columns = dict[str, np.ndarray]


def target_limits(features: pd.DataFrame, grade: npt.ArrayLike, policy: Policy) -> Columns:
    """Every number of the limit formula, as arrays aligned with the rows of ``features``."""
    limits = policy.credit_limit
    grade = np.asarray(grade, dtype=np.int64)
    volume = np.nan_to_num(
        numeric_column(features, limits.volume_feature, "credit_limit.volume_feature"), nan=0.0
    )
    tenure = optional_numeric_column(features, limits.tenure_feature)
    observed_days = np.clip(
        np.nan_to_num(tenure, nan=limits.volume_window_days),
        limits.min_observed_days,
        limits.volume_window_days,
    )
    terms = optional_numeric_column(features, limits.terms_feature)
    terms = np.where(terms > 0, terms, limits.default_terms_days)
    days_to_pay = terms
    if limits.days_to_pay_feature:
        dso = numeric_column(features, limits.days_to_pay_feature, "credit_limit.days_to_pay_feature")
        days_to_pay = np.fmax(terms, np.nan_to_num(dso, nan=0.0))
    monthly_volume = volume * 30.0 / observed_days
    peak_balance = np.zeros(len(features))
    for index, name in enumerate(limits.exposure_features):
        balance = numeric_column(features, name, f"credit_limit.exposure_features[{index}]")
        peak_balance = np.fmax(peak_balance, np.nan_to_num(balance, nan=0.0))
    trade_exposure = np.fmax(monthly_volume * days_to_pay / 30.0, peak_balance)
    multiplier = np.asarray(limits.grade_multiplier)[grade - 1]
    revenue = optional_numeric_column(features, "annual_revenue")
    capital = optional_numeric_column(features, "registered_capital")
    bounds = {"grade_limit": trade_exposure * multiplier, **firmographic_caps(revenue, capital, limits)}
    bounds["cap_max_limit"] = np.full(len(features), float(limits.max_limit))
    stacked = np.column_stack([np.where(np.isnan(bounds[name]), np.inf, bounds[name]) for name in BOUNDS])
    basis = (
        np.array(BOUNDS, dtype=object)[stacked.argmin(axis=1)]
        if len(features)
        else np.array([], dtype=object)
    )
    return {
        "volume": volume,
        "observed_days": observed_days,
        "monthly_volume": monthly_volume,
        "terms_days": terms,
        "days_to_pay": days_to_pay,
        "peak_balance": peak_balance,
        "trade_exposure": trade_exposure,
        "grade": grade,
        "grade_multiplier": multiplier,
        "annual_revenue": revenue,
        "registered_capital": capital,
        **bounds,
        "target_basis": basis,
        "target_limit": round_down(stacked.min(axis=1, initial=np.inf), limits.rounding),
    }


def _clean_record(features: pd.DataFrame, policy: Policy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(value of the clean-record feature, days past due of the oldest open invoice, whether the record is clean)."""
    review = policy.credit_limit.review
    clean_value = numeric_column(
        features, review.clean_record.feature, "credit_limit.review.clean_record.feature"
    )
    past_due = numeric_column(features, review.past_due_feature, "credit_limit.review.past_due_feature")
    within_terms = clean_value <= review.clean_record.max_days_beyond_terms
    is_clean = within_terms & (np.nan_to_num(past_due, nan=0.0) <= review.clean_record.max_days_past_due)
    return clean_value, past_due, is_clean


def review_limits(
    target: Columns,
    features: pd.DataFrame,
    current_limit: np.ndarray,
    has_severe_alert: np.ndarray,
    policy: Policy,
    default_date: np.ndarray | None = None,
) -> Columns:
    """``target`` with the review rules applied: ``recommended_limit``, the deciding ``limit_rule`` and each rule's flag.

    ``default_date`` (NaT where not in default) stops supply: limit 0 while in default.
    """
    review = policy.credit_limit.review
    clean_value, past_due, is_clean = _clean_record(features, policy)
    has_current = np.nan_to_num(current_limit, nan=0.0) > 0
    base = np.where(has_current, current_limit, 0.0)
    proposed = target["target_limit"]
    breach_rule = np.full(len(base), "", dtype=object)
    past_due_breach = np.nan_to_num(past_due, nan=0.0) > review.past_due_days
    severe_breach = has_severe_alert & ~past_due_breach
    for breach, mode, name in (
        (past_due_breach, review.on_past_due, "past_due"),
        (severe_breach, review.on_severe_alert, "severe_alert"),
    ):
        ceiling = base * review.cut_factor if mode == "cut" else base
        proposed = np.where(breach, np.minimum(proposed, ceiling), proposed)
        breach_rule = np.where(breach, f"{mode}_{name}", breach_rule)
    growth_blocked = has_current & (breach_rule == "") & (proposed > base) & ~is_clean
    proposed = np.where(growth_blocked, base, proposed)
    grade = np.asarray(target["grade"])
    kept = has_current & (breach_rule == "") & (grade <= review.keep_max_grade) & (proposed < base)
    proposed = np.where(kept, base, proposed)
    is_cut = np.char.startswith(breach_rule.astype(str), "cut_")
    upper, lower = base * (1 + review.max_increase), base * (1 - review.max_decrease)
    step_cap = np.where(
        has_current & (proposed > upper),
        "step_cap_increase",
        np.where(has_current & ~is_cut & (proposed < lower), "step_cap_decrease", ""),
    )
    proposed = np.clip(
        proposed, np.where(is_cut | ~has_current, -np.inf, lower), np.where(has_current, upper, np.inf)
    )
    recommended = _round_towards_current(
        proposed, base, step_cap == "step_cap_decrease", policy.credit_limit.rounding
    )
    default_date = pd.to_datetime(
        pd.Series(np.full(len(base), None) if default_date is None else default_date, dtype=object)
    )
    in_default = default_date.notna().to_numpy()
    recommended = np.where(in_default, 0.0, recommended)
    exposure = np.zeros(len(base))
    if policy.credit_limit.exposure_feature:
        exposure = np.nan_to_num(
            numeric_column(features, policy.credit_limit.exposure_feature, "credit_limit.exposure_feature"),
            nan=0.0,
        )
    covered = ~in_default & (breach_rule == "") & (grade <= review.keep_max_grade) & (recommended < exposure)
    recommended = np.where(
        covered, np.ceil(exposure / policy.credit_limit.rounding) * policy.credit_limit.rounding, recommended
    )
    columns = {
        **target,
        "current_limit": np.where(has_current, current_limit, np.nan),
        "days_past_due": past_due,
        "is_past_due_breach": past_due_breach,
        "has_severe_alert": has_severe_alert,
        "clean_value": clean_value,
        "is_clean_record": is_clean,
        "breach_rule": breach_rule,
        "is_growth_blocked": growth_blocked,
        "is_kept": kept,
        "is_covered": covered,
        "step_cap": step_cap,
        "exposure": exposure,
        "stops_supply": ~in_default & (recommended < exposure),
        "recommended_limit": recommended,
        "in_default": in_default,
        "default_date": default_date.dt.date.to_numpy(),
    }
    return {**columns, "limit_rule": _deciding_rule(columns)}


def _deciding_rule(columns: Columns) -> np.ndarray:
    """The last review rule that applied to each row."""
    has_current = ~np.isnan(columns["current_limit"])
    unchanged = columns["recommended_limit"] == columns["current_limit"]
    rule = np.where(has_current, np.where(unchanged, "unchanged", "target"), "initial").astype(object)
    rule = np.where(columns["breach_rule"] != "", columns["breach_rule"], rule)
    rule = np.where(columns["is_growth_blocked"], "no_growth_without_clean_record", rule)
    rule = np.where(columns["is_kept"], "keep_good_grade", rule)
    rule = np.where(columns["step_cap"] != "", columns["step_cap"], rule)
    rule = np.where(columns["is_covered"], "cover_exposure", rule)
    rule = np.where(columns["stops_supply"], "stop_supply_below_exposure", rule)
    return np.where(columns["in_default"], "stop_supply", rule)


def _round_towards_current(
    proposed: np.ndarray, base: np.ndarray, capped_down: np.ndarray, rounding: float
) -> np.ndarray:
    """Round to ``rounding`` without crossing the current limit; a capped decrease rounds up so that the step cap holds."""
    rounded = np.where(capped_down, np.ceil(proposed / rounding) * rounding, round_down(proposed, rounding))
    rounded = np.where(proposed > base, np.maximum(rounded, base), np.minimum(rounded, base))
    return np.where(proposed == base, base, rounded)


def recommend_limits(
    policy: Policy,
    features: pd.DataFrame,
    grade: npt.ArrayLike,
    current_limit: npt.ArrayLike | None = None,
    has_severe_alert: npt.ArrayLike | None = None,
    default_date: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Recommended limits for a portfolio: every number of the formula and the review, one row per customer.

    Parameters
    ----------
    features
        Customer features with the columns the policy names; ``annual_revenue`` and
        ``registered_capital`` are used when present.
    grade
        Risk grade 1..10 of each row.
    current_limit
        Current limits; by default the ``credit_limit`` column (NaN or 0: no limit yet).
    has_severe_alert
        Whether each customer has an open severe alert (default: none).
    default_date
        Date each customer's current default began, NaT (or None) if not in default
        (:func:`riskmodel.labels.default_state`); in default, the limit is 0 (``stop_supply``).

    Returns
    -------
    pd.DataFrame
        Same index as ``features``; ``recommended_limit`` and ``limit_rule`` plus the
        intermediate numbers that :func:`limit_rationale` turns into sentences.
    """
    return pd.DataFrame(
        _limit_columns(policy, features, grade, current_limit, has_severe_alert, default_date),
        index=features.index,
    )


def _limit_columns(
    policy: Policy,
    features: pd.DataFrame,
    grade: npt.ArrayLike,
    current_limit: npt.ArrayLike | None,
    has_severe_alert: npt.ArrayLike | None,
    default_date: npt.ArrayLike | None = None,
) -> Columns:
    if current_limit is None:
        current_limit = optional_numeric_column(features, "credit_limit")
    severe = (
        np.zeros(len(features), dtype=bool)
        if has_severe_alert is None
        else np.asarray(has_severe_alert, dtype=bool)
    )
    target = target_limits(features, grade, policy)
    dates = None if default_date is None else np.asarray(default_date, dtype=object)
    return review_limits(target, features, np.asarray(current_limit, dtype=float), severe, policy, dates)


def _formula_steps(row: Mapping[str, Any], policy: Policy, lang: str) -> list[RationaleStep]:
    """Steps of the target formula, caps only where the figure is known."""
    limits = policy.credit_limit
    steps = [
        _step(
            "monthly_volume",
            row["monthly_volume"],
            lang,
            volume=row["volume"],
            observed_days=row["observed_days"],
        ),
        _step(
            "trade_exposure",
            row["trade_exposure"],
            lang,
            days_to_pay=row["days_to_pay"],
            peak_balance=row["peak_balance"],
        ),
        _step(
            "grade_limit", row["grade_limit"], lang, grade=row["grade"], multiplier=row["grade_multiplier"]
        ),
    ]
    shares = {
        "cap_annual_revenue": ("annual_revenue", limits.max_share_of_annual_revenue),
        "cap_registered_capital": ("registered_capital", limits.max_share_of_registered_capital),
    }
    for rule, (base_column, share) in shares.items():
        if not np.isnan(row[rule]):
            steps.append(_step(rule, row[rule], lang, share=share, base=row[base_column]))
    steps.append(_step("cap_max_limit", row["cap_max_limit"], lang))
    basis = render(f"limit.basis.{row['target_basis']}", lang)
    steps.append(_step("target", row["target_limit"], lang, basis=basis, rounding=limits.rounding))
    return steps


def _step(rule: str, value: float, lang: str, **values: Any) -> RationaleStep:
    return RationaleStep(rule, to_jsonable(value), render(f"limit.{rule}", lang, value=value, **values))


def _review_rules(row: Mapping[str, Any]) -> list[str]:
    """The review rules applied to this row, in the order the review applies them."""
    if row.get("in_default", False):
        return ["stop_supply"]
    has_current = not np.isnan(row["current_limit"])
    rules = [] if has_current else ["initial"]
    rules += [row["breach_rule"]] if row["breach_rule"] else []
    rules += ["no_growth_without_clean_record"] if row["is_growth_blocked"] else []
    rules += ["keep_good_grade"] if row.get("is_kept", False) else []
    rules += [row["step_cap"]] if row["step_cap"] else []
    rules += ["cover_exposure"] if row.get("is_covered", False) else []
    rules += ["stop_supply_below_exposure"] if row.get("stops_supply", False) else []
    if has_current and len(rules) == 0:
        rules.append(row["limit_rule"])
    return rules


def _review_step(rule: str, row: Mapping[str, Any], policy: Policy, lang: str) -> RationaleStep:
    review = policy.credit_limit.review
    detail = render(
        f"limit.rule.{rule}",
        lang,
        current=0.0 if np.isnan(row["current_limit"]) else row["current_limit"],
        days_past_due=row["days_past_due"],
        past_due_days=review.past_due_days,
        cut_factor=review.cut_factor,
        max_increase=review.max_increase,
        max_decrease=review.max_decrease,
        clean_feature=review.clean_record.feature,
        clean_value=format_value(to_jsonable(row["clean_value"]), lang),
        max_days_beyond_terms=review.clean_record.max_days_beyond_terms,
        open_days=format_value(to_jsonable(row["days_past_due"]), lang),
        max_open_days=review.clean_record.max_days_past_due,
        default_date=_iso(row.get("default_date")),
        exposure=row.get("exposure", 0.0),
        keep_max_grade=review.keep_max_grade,
    )
    return RationaleStep(rule, to_jsonable(row["recommended_limit"]), detail)


def _summary(row: Mapping[str, Any], policy: Policy, lang: str) -> str:
    """One line: the recommendation, the rule that decided it and the target's basis."""
    basis = render(f"limit.basis.{row['target_basis']}", lang)
    target = render("limit.target_short", lang, value=row["target_limit"], basis=basis)
    rule = _review_step(row["limit_rule"], row, policy, lang).detail
    return render("limit.summary", lang, value=row["recommended_limit"], rule=rule, target=target)


def limit_rationale(row: Mapping[str, Any], policy: Policy, lang: str = "en") -> LimitRecommendation:
    """The recommendation of one row of :func:`recommend_limits`, with its steps and one-line text in ``lang``."""
    check_lang(lang)
    formula = _formula_steps(row, policy, lang)
    review = [_review_step(rule, row, policy, lang) for rule in _review_rules(row)]
    return LimitRecommendation(
        recommended_limit=float(row["recommended_limit"]),
        current_limit=to_jsonable(row["current_limit"]),
        target_limit=float(row["target_limit"]),
        rule=str(row["limit_rule"]),
        steps=tuple(formula + review),
        text=_summary(row, policy, lang),
        policy_version=policy.version,
    )


def limit_rationale_texts(limits: pd.DataFrame, policy: Policy, lang: str = "en") -> pd.Series:
    """One-line rationale of every row of :func:`recommend_limits` (the ``limit_rationale`` column of batch output)."""
    check_lang(lang)
    used = [
        "target_basis",
        "target_limit",
        "limit_rule",
        "recommended_limit",
        "current_limit",
        "days_past_due",
        "clean_value",
        "default_date",
        "exposure",
    ]
    texts = [_summary(row, policy, lang) for row in limits[used].to_dict("records")]
    return pd.Series(texts, index=limits.index, dtype=object)


def recommend_limit(
    policy: Policy,
    features: Mapping[str, Any] | pd.Series,
    grade: int,
    current_limit: float | None = None,
    has_severe_alert: bool = False,
    lang: str = "en",
    default_date: date | None = None,
) -> LimitRecommendation:
    """The recommended limit of one customer, computed by the portfolio code on a one-row table."""
    frame = pd.DataFrame([dict(features)])
    current = None if current_limit is None else [current_limit]
    columns = _limit_columns(policy, frame, [grade], current, [has_severe_alert], [default_date])
    return limit_rationale({name: values[0] for name, values in columns.items()}, policy, lang)


def _iso(value: Any) -> str:
    """A date as ``YYYY-MM-DD``; empty when missing."""
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()
