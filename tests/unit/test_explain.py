"""Reason codes: additivity of LightGBM contributions, ordering, grouping, languages, top_n, batch = rows."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from riskmodel.explain import comparison_points, reason_codes, reason_table, split_contributions
from riskmodel.features.definitions import build_registry
from riskmodel.policy.texts import format_feature_value

REGISTRY = {feature.name: feature for feature in build_registry()}
# two payment-delay features, one aging, one firmographic, one dispute, one name the registry does not know
NAMES = [
    "days_beyond_terms_mean_90d",
    "days_beyond_terms_max_90d",
    "max_days_past_due",
    "bureau_score",
    "n_disputes_open",
    "erp_flag",
]


@pytest.fixture(scope="module")
def booster_and_data() -> tuple[lgb.Booster, pd.DataFrame]:
    rng = np.random.default_rng(0)
    values = pd.DataFrame(rng.normal(size=(400, len(NAMES))), columns=NAMES)
    label = (
        values["days_beyond_terms_mean_90d"] + values["max_days_past_due"] + rng.normal(scale=0.5, size=400)
        > 0.5
    ).astype(int)
    params = {
        "objective": "binary",
        "num_leaves": 7,
        "min_data_in_leaf": 10,
        "verbose": -1,
        "seed": 0,
        "num_threads": 1,
    }
    return lgb.train(params, lgb.Dataset(values, label), num_boost_round=20), values


def test_contributions_plus_bias_add_up_to_the_raw_score(
    booster_and_data: tuple[lgb.Booster, pd.DataFrame],
) -> None:
    booster, values = booster_and_data
    contributions, bias = split_contributions(booster.predict(values, pred_contrib=True))
    assert contributions.shape == (len(values), len(NAMES))
    np.testing.assert_allclose(
        contributions.sum(axis=1) + bias, booster.predict(values, raw_score=True), atol=1e-9
    )
    assert np.ptp(bias) == 0  # the bias is the model's expected raw score, the same for every row


def test_reasons_from_a_model_sum_their_group(booster_and_data: tuple[lgb.Booster, pd.DataFrame]) -> None:
    booster, values = booster_and_data
    contributions, _ = split_contributions(booster.predict(values, pred_contrib=True))
    table = reason_table(contributions, NAMES, values, comparison_points(values), top_n=10)
    delay = table[table["group"] == "payment_delay"].set_index("row")
    expected = contributions[delay.index, 0] + contributions[delay.index, 1]
    np.testing.assert_allclose(delay["contribution"].to_numpy(), expected)
    assert (table["contribution"] > 0).all()


def one_row(contributions: list[float], values: list[float] | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    return np.array([contributions]), pd.DataFrame(
        [values or [10.0, 40.0, 75.0, 600.0, 2.0, 1.0]], columns=NAMES
    )


def test_largest_risk_raising_group_first_and_only_raising_ones() -> None:
    contributions, values = one_row([0.1, 0.05, 0.9, -0.4, 0.3, 0.0])
    reasons = reason_codes(contributions, NAMES, values)[0]
    assert [r["feature"] for r in reasons] == [
        "max_days_past_due",
        "n_disputes_open",
        "days_beyond_terms_mean_90d",
    ]
    assert [r["contribution"] for r in reasons] == pytest.approx([0.9, 0.3, 0.15])


def test_related_features_are_one_reason_told_by_the_dominant_feature() -> None:
    contributions, values = one_row([0.2, 0.3, 0.1, 0.0, 0.0, 0.0])
    first = reason_codes(contributions, NAMES, values, {"days_beyond_terms_max_90d": 5.0})[0][0]
    assert first == {
        "feature": "days_beyond_terms_max_90d",
        "value": 40.0,
        "contribution": pytest.approx(0.5),
        "description": REGISTRY["days_beyond_terms_max_90d"].en,
        "group": "payment_delay",
        "comparison": 5.0,
        "direction": "higher",
        "value_text": "40 days",
        "comparison_text": "5 days",
        "members": [
            {"feature": "days_beyond_terms_max_90d", "contribution": pytest.approx(0.3)},
            {"feature": "days_beyond_terms_mean_90d", "contribution": pytest.approx(0.2)},
        ],
    }


def test_top_n_limits_the_number_of_reasons() -> None:
    contributions, values = one_row([0.1, 0.0, 0.2, 0.3, 0.4, 0.5])
    assert len(reason_codes(contributions, NAMES, values)[0]) == 4
    assert [r["feature"] for r in reason_codes(contributions, NAMES, values, top_n=2)[0]] == [
        "erp_flag",
        "n_disputes_open",
    ]
    with pytest.raises(ValueError, match="top_n must be at least 1; got 0"):
        reason_codes(contributions, NAMES, values, top_n=0)


def test_descriptions_follow_the_language() -> None:
    contributions, values = one_row([0.0, 0.0, 0.9, 0.0, 0.0, 0.0])
    assert (
        reason_codes(contributions, NAMES, values, lang="zh")[0][0]["description"] == "最久未结发票的逾期天数"
    )
    with pytest.raises(ValueError, match=r"lang must be one of 'en', 'zh'; got 'de'"):
        reason_codes(contributions, NAMES, values, lang="de")


def test_feature_unknown_to_the_registry_stands_for_itself() -> None:
    contributions, values = one_row([0.0, 0.0, 0.0, 0.0, 0.0, 0.7])
    reason = reason_codes(contributions, NAMES, values, lang="zh")[0][0]
    assert (reason["feature"], reason["group"], reason["description"]) == ("erp_flag", "erp_flag", "erp_flag")


def test_missing_value_and_missing_comparison_give_none() -> None:
    contributions, values = one_row([0.0, 0.0, 0.9, 0.0, 0.0, 0.0], [1.0, 1.0, np.nan, 1.0, 1.0, 1.0])
    reason = reason_codes(contributions, NAMES, values)[0][0]
    assert (reason["value"], reason["comparison"], reason["direction"]) == (None, None, None)
    assert reason["value_text"] == "not provided"
    assert reason_codes(contributions, NAMES, values, lang="zh")[0][0]["value_text"] == "未提供"


def test_reasons_below_the_threshold_are_left_out() -> None:
    contributions, values = one_row([0.0, 0.0, 0.9, 0.0, 0.099, 0.1])
    reasons = reason_codes(contributions, NAMES, values, min_contribution=0.1)[0]
    assert [r["feature"] for r in reasons] == ["max_days_past_due", "erp_flag"]


@pytest.mark.parametrize(
    ("value", "unit", "lang", "text"),
    [
        (12300.4, "amount", "en", "12,300"),
        (0.374, "share", "en", "37%"),
        (45.0, "days", "en", "45 days"),
        (45.0, "days", "zh", "45天"),
        (8.0, "years", "zh", "8年"),
        (612.0, "score", "en", "612"),
        ("DE", "category", "en", "DE"),
        (None, "amount", "en", "not provided"),
        (float("nan"), "share", "zh", "未提供"),
    ],
)
def test_values_are_formatted_by_unit(value, unit: str, lang: str, text: str) -> None:
    assert format_feature_value(value, unit, lang) == text


def test_firmographics_are_split_into_groups_a_credit_officer_tells_apart() -> None:
    groups = {
        name: REGISTRY[name].group for name in ("bureau_score", "annual_revenue", "industry", "credit_limit")
    }
    assert groups == {
        "bureau_score": "bureau",
        "annual_revenue": "size_and_age",
        "industry": "sector_and_country",
        "credit_limit": "exposure",
    }


def test_comparison_missing_for_one_reason_only_gives_none_there() -> None:
    contributions, values = one_row([0.0, 0.0, 0.9, 0.3, 0.0, 0.0])
    reasons = reason_codes(contributions, NAMES, values, {"max_days_past_due": 0.0})[0]
    assert [(r["comparison"], r["direction"]) for r in reasons] == [(0.0, "higher"), (None, None)]


def test_all_directions_ranked_by_absolute_contribution() -> None:
    contributions, values = one_row([0.1, 0.0, 0.2, -0.6, 0.0, 0.0])
    reasons = reason_codes(contributions, NAMES, values, risk_raising_only=False)[0]
    assert [(r["feature"], r["contribution"]) for r in reasons] == [
        ("bureau_score", -0.6),
        ("max_days_past_due", 0.2),
        ("days_beyond_terms_mean_90d", 0.1),
    ]


def test_row_without_risk_raising_contributions_has_no_reasons() -> None:
    contributions, values = one_row([-0.1, 0.0, -0.2, -0.3, 0.0, 0.0])
    assert reason_codes(contributions, NAMES, values) == [[]]


def test_bias_column_left_in_is_a_clear_error() -> None:
    contributions, values = one_row([0.1] * len(NAMES))
    with pytest.raises(
        ValueError, match=r"contributions must have shape \(n_rows, 6\).*use split_contributions\(\) first"
    ):
        reason_codes(np.hstack([contributions, [[-2.0]]]), NAMES, values)


def test_batch_equals_row_by_row() -> None:
    rng = np.random.default_rng(3)
    contributions = rng.normal(scale=0.3, size=(50, len(NAMES)))
    values = pd.DataFrame(rng.normal(size=(50, len(NAMES))), columns=NAMES)
    medians = comparison_points(values)
    batch = reason_codes(contributions, NAMES, values, medians)
    rows = [
        reason_codes(contributions[i : i + 1], NAMES, values.iloc[i : i + 1], medians)[0] for i in range(50)
    ]
    assert batch == rows
    assert sum(len(reasons) for reasons in batch) > 50


def test_default_trigger_reasons_name_the_invoice_or_event():
    from riskmodel.explain import default_trigger_reasons

    state = pd.DataFrame(
        {
            "default_date": pd.to_datetime(["2025-03-02", None, "2025-05-01"]),
            "trigger_type": ["invoice_past_due", None, "bankruptcy"],
            "invoice_id": ["INV0001", None, None],
            "days_past_due": [91, None, None],
            "open_amount": [12300.0, None, None],
        }
    )
    reasons = default_trigger_reasons(state)
    assert reasons[0][0]["value"] == "invoice INV0001 91 days past due since 2025-03-02, open 12,300"
    assert reasons[1] == []
    assert reasons[2][0]["value"] == "bankruptcy event on 2025-05-01"
    assert (
        reasons[0][0]["feature"] == "default_trigger" and "since 2025-03-02" in reasons[0][0]["description"]
    )
    assert default_trigger_reasons(state, lang="zh")[2][0]["value"] == "2025-05-01发生破产事件"
