"""Grade of a customer from its payment behaviour, for scoring when no default model is registered.

The policy's ``payment_rules`` (see ``policy.yaml``) read customer features of the
registry as of the scoring date — the oldest open invoice's days past due, the share of
invoices paid late and the average days beyond terms over a recent window, the open
disputes — and move a base grade by the notches of the band each value falls in. The
answer's ``pd_12m`` is the grade's central PD on the master scale (a policy figure, not
an estimate) and its reasons are the rule steps in words, so an officer can redo the sum.

Examples
--------
>>> import pandas as pd
>>> from riskmodel.policy import load_policy
>>> features = pd.DataFrame({"max_days_past_due": [45.0, -10.0], "share_paid_late_180d": [0.4, 0.0],
...                          "days_beyond_terms_mean_180d": [12.0, -2.0], "n_disputes_open": [1, 0]})
>>> scored = grade_by_payment_rules(load_policy(), features)
>>> scored.grade.tolist()
[9, 2]
>>> [(r["rule"], r["contribution"]) for r in scored.reasons[1]]
[('past_due', 0.0), ('disputes', 0.0), ('paid_late', -1.0), ('days_beyond_terms', -1.0), ('base', 0.0)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.exceptions import PolicyError
from riskmodel.features.definitions import Feature, FeatureConfig, features_for
from riskmodel.jsonable import to_jsonable
from riskmodel.policy.config import N_GRADES, PaymentRule, PaymentRules, Policy
from riskmodel.policy.texts import check_lang, format_value, render

GROUP = "payment_rules"


@dataclass(frozen=True)
class RulesScores:
    """Grades, PDs and reasons of a feature table's rows by the payment-behaviour rules.

    ``grade`` and ``pd_12m`` are arrays of shape (n_customers,); ``reasons`` holds one list
    of reason dicts per row: the rule steps, most risk-raising first, then the base grade.
    """

    grade: np.ndarray
    pd_12m: np.ndarray
    reasons: list[list[dict[str, Any]]]


def rule_features(rules: PaymentRules, config: FeatureConfig) -> dict[str, Feature]:
    """The registry feature each rule reads, by rule name; a name the registry lacks is a PolicyError."""
    known = {feature.name: feature for feature in features_for("customer", config)}
    found = {}
    for name, rule in rules.rules.items():
        if rule.feature not in known:
            raise PolicyError(
                f"payment_rules.{name}.feature {rule.feature!r} is not a customer feature with the feature "
                f"windows {list(config.windows_days)} the scores use; name a feature of "
                "src/riskmodel/features/definitions/ (the window is part of the name, e.g. "
                f"share_paid_late_{config.windows_days[-1]}d) or train with windows that give it"
            )
        found[name] = known[rule.feature]
    return found


def rule_notches(rule: PaymentRule, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Band index and notches of each value: the first band it reaches, else the last; missing values add 0.

    Returns two arrays of the shape of ``values`` (band index -1 where the value is missing).
    """
    band = np.full(values.shape, len(rule.bands) - 1)
    for index in range(len(rule.bands) - 1, -1, -1):  # the lowest index reached wins
        band = np.where(values >= rule.bands[index].at_least, index, band)
    notches = np.array([b.notches for b in rule.bands])[band]
    missing = np.isnan(values)
    return np.where(missing, -1, band), np.where(missing, 0, notches)


def grade_by_payment_rules(
    policy: Policy, features: pd.DataFrame, lang: str = "en", config: FeatureConfig | None = None
) -> RulesScores:
    """Grade, central PD and rule-step reasons of each customer of a feature table.

    Parameters
    ----------
    features
        Customer features as of the scoring date (one row per customer), holding the
        features the policy's ``payment_rules`` name.
    config
        The feature windows the table was computed with (default :class:`FeatureConfig`),
        for the features' descriptions.
    """
    check_lang(lang)
    rules = policy.payment_rules
    config = config or FeatureConfig()
    described = rule_features(rules, config)
    grade = np.full(len(features), rules.base_grade)
    steps: list[list[dict[str, Any]]] = [[] for _ in range(len(features))]
    for name, rule in rules.rules.items():
        values = pd.to_numeric(features[rule.feature], errors="coerce").to_numpy(dtype=float)
        band, notches = rule_notches(rule, values)
        grade = grade + notches
        texts = _step_texts(rule, described[name], lang)  # one per band, then the missing value's (band -1)
        for row, (value, b, n) in enumerate(
            zip(values.tolist(), band.tolist(), notches.tolist(), strict=True)
        ):
            steps[row].append(_reason(name, rule.feature, value, n, texts[b](value)))
    grade = np.clip(grade, 1, N_GRADES).astype(np.int64)
    base = _reason(
        "base", "base_grade", rules.base_grade, 0, render("payment_rules.base", lang, grade=rules.base_grade)
    )
    reasons = [sorted(row, key=lambda r: -r["contribution"]) + [base] for row in steps]
    central = np.array([policy.central_pd(g) for g in range(1, N_GRADES + 1)])
    return RulesScores(grade, central[grade - 1], reasons)


def _reason(rule: str, feature: str, value: Any, notches: int, text: str) -> dict[str, Any]:
    """A rule step in the shape of a reason code; ``contribution`` is the step's grade notches."""
    return {
        "feature": feature,
        "value": to_jsonable(value),
        "contribution": float(notches),
        "description": text,
        "group": GROUP,
        "comparison": None,
        "direction": None,
        "rule": rule,
    }


def _step_texts(rule: PaymentRule, feature: Feature, lang: str) -> list[Any]:
    """One text function per band of ``rule``, then one for a missing value."""
    description = feature.zh if lang == "zh" else feature.en
    bounds = [_format(band.at_least, feature.unit, lang) for band in rule.bands]
    functions = []
    for index, band in enumerate(rule.bands):
        if len(rule.bands) == 1:
            band_text = render("payment_rules.band.any", lang)
        elif index == 0:
            band_text = render("payment_rules.band.top", lang, at_least=bounds[0])
        elif index == len(rule.bands) - 1:
            band_text = render("payment_rules.band.bottom", lang, upper=bounds[index - 1])
        else:
            band_text = render(
                "payment_rules.band.middle", lang, at_least=bounds[index], upper=bounds[index - 1]
            )
        functions.append(
            lambda value, band_text=band_text, notches=band.notches: render(
                "payment_rules.step",
                lang,
                description=description,
                value=_format(value, feature.unit, lang),
                band=band_text,
                notches=notches,
            )
        )
    functions.append(lambda _value: render("payment_rules.step_missing", lang, description=description))
    return functions


def _format(value: float, unit: str, lang: str) -> str:
    """A rule value or band bound as the officer reads it: shares in per cent, other numbers as facts are shown."""
    if unit == "share":
        return f"{value:.0%}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return format_value(float(value), lang)
