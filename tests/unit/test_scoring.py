"""The one scoring path: batch and one-customer scoring agree, and responses carry DESIGN.md's fields."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from riskmodel.explain import comparison_points
from riskmodel.features.onboarding import APPLICATION_FIELDS, application_row, onboarding_features
from riskmodel.features.online import OnlineFeatureStore
from riskmodel.ledger import load_ledger
from riskmodel.scoring import ModelBundle, customer_response, onboard, open_invoices, score_customers
from riskmodel.service.schemas import OnboardRequest
from riskmodel.training_tables import onboarding_training_table
from tests.conftest import SAMPLE

pytestmark = pytest.mark.slow
AS_OF = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def bundle(sample_models) -> ModelBundle:
    return ModelBundle.from_registry(sample_models)


@pytest.fixture(scope="module")
def ledger():
    return load_ledger(SAMPLE)


@pytest.fixture(scope="module")
def portfolio(bundle, ledger):
    return score_customers(bundle, ledger, AS_OF)


def test_bundle_holds_all_three_champions(bundle):
    assert set(bundle.versions) == {"default", "late_payment", "onboarding"}
    assert bundle.model_version.startswith("default:")


def test_portfolio_scores_are_probabilities_graded_by_the_policy(portfolio, bundle):
    scores = portfolio.scores
    assert len(scores) > 500 and scores["customer_id"].is_unique
    assert scores["pd_12m"].between(0, 1).all()
    np.testing.assert_array_equal(scores["grade"], bundle.policy.grade(scores["pd_12m"].to_numpy()))
    assert scores["reasons"].map(len).le(4).all()
    assert (scores["recommended_limit"] >= 0).all()


def test_open_invoices_are_those_unpaid_at_the_date(ledger):
    frame = open_invoices(ledger, AS_OF)
    invoices = ledger.frame("invoices").set_index("invoice_id").loc[frame["invoice_id"]]
    assert (invoices["issue_date"] <= pd.Timestamp(AS_OF)).all()
    assert not (invoices["settled_date"] <= pd.Timestamp(AS_OF)).any()
    assert (frame["open_amount"] > 0).all()
    np.testing.assert_array_equal(
        frame["days_past_due"], (pd.Timestamp(AS_OF) - invoices["due_date"]).dt.days
    )


def test_one_customer_scored_alone_equals_its_portfolio_row(portfolio, bundle, ledger):
    store = OnlineFeatureStore(ledger, bundle.default.feature_config)
    comparison = comparison_points(portfolio.features[bundle.default.feature_names])
    for customer_id in portfolio.scores["customer_id"].iloc[::97]:
        alone = score_customers(
            bundle,
            store.customer_ledger(customer_id),
            AS_OF,
            customer_ids=[customer_id],
            comparison=comparison,
        )
        batch_row = portfolio.scores.set_index("customer_id").loc[customer_id]
        row = alone.scores.iloc[0]
        assert row["pd_12m"] == pytest.approx(batch_row["pd_12m"], abs=1e-12)
        assert (row["grade"], row["recommended_limit"], row["limit_rule"]) == (
            batch_row["grade"],
            batch_row["recommended_limit"],
            batch_row["limit_rule"],
        )
        assert [r["feature"] for r in row["reasons"]] == [r["feature"] for r in batch_row["reasons"]]
        for mine, theirs in zip(row["reasons"], batch_row["reasons"], strict=True):
            assert mine["contribution"] == pytest.approx(theirs["contribution"], abs=1e-9)
            # one customer's sums run in another order than the portfolio's: equal but for the last bits
            value = theirs["value"]
            assert mine["value"] == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value)
            assert (mine["comparison"], mine["description"]) == (theirs["comparison"], theirs["description"])


def test_score_response_has_the_design_fields(portfolio, bundle):
    customer_id = portfolio.open_invoices["customer_id"].iloc[0]
    body = customer_response(portfolio, customer_id, bundle, lang="zh")
    assert {
        "customer_id",
        "as_of",
        "pd_12m",
        "grade",
        "recommended_limit",
        "current_limit",
        "limit_rationale",
        "alerts",
        "reasons",
        "open_invoices",
        "model_version",
    } <= set(body)
    assert body["open_invoices"] and {
        "invoice_id",
        "p_late",
        "p_late_30",
        "p_late_60",
        "p_late_90",
        "expected_payment_date",
    } <= set(body["open_invoices"][0])
    late = [body["open_invoices"][0][k] for k in ("p_late", "p_late_30", "p_late_60", "p_late_90")]
    assert late == sorted(late, reverse=True)
    assert any(
        "\u4e00" <= ch <= "\u9fff" for ch in body["limit_rationale"]["text"]
    )  # Chinese text when asked


def test_onboarding_response_has_a_decision(bundle):
    body = onboard(
        bundle,
        {"annual_revenue": 2e6, "years_in_business": 8, "bureau_score": 700, "payment_terms_days": 30},
        requested_limit=20_000,
    )
    assert body["decision"] in {"approve", "review", "prepayment_or_guarantee", "decline"}
    assert 0 <= body["pd_12m"] <= 1 and body["grade"] == bundle.policy.grade(body["pd_12m"])


def test_application_fields_are_the_onboard_request_fields_and_leave_out_the_credit_limit():
    request_fields = set(OnboardRequest.model_fields) - {"name", "requested_limit", "lang"}
    assert set(APPLICATION_FIELDS) == request_fields and "credit_limit" not in APPLICATION_FIELDS


def test_training_vector_equals_the_onboard_vector_of_a_sample_customer(bundle, ledger):
    model = bundle.onboarding
    table = onboarding_training_table(ledger, None, 12, model.feature_config)
    row = table.iloc[0]
    customers = ledger.customers.to_pandas()
    application = customers.loc[customers["customer_id"] == row["customer_id"]].iloc[0].to_dict()
    application = {k: (None if pd.isna(v) else v) for k, v in application.items() if k in APPLICATION_FIELDS}
    served = onboarding_features(
        pd.DataFrame([{"customer_id": "x", "onboarding_date": pd.NaT, **application}])
    )
    names = model.feature_names
    assert set(names) <= set(APPLICATION_FIELDS)
    np.testing.assert_array_equal(
        model.preparer.transform(table.iloc[[0]][names]), model.preparer.transform(served[names])
    )
    assert onboard(bundle, application)["pd_12m"] == pytest.approx(
        float(model.predict_proba(table.iloc[[0]])[0])
    )


def test_an_empty_application_scores_within_the_applicants_not_beyond_them(bundle, ledger):
    """Missing data is neutral or its own supported bin: each term of an empty application lies
    inside the range of the sample applicants' terms, and its score below the riskiest
    applicant's (it used to exceed them all: PD 99.95 %)."""
    model = bundle.onboarding
    table = onboarding_training_table(ledger, None, 12, model.feature_config)
    terms, _ = model.contributions(table)
    empty = onboarding_features(application_row({}), model.feature_config)
    empty_terms, _ = model.contributions(empty)
    assert (empty_terms[0] >= terms.min(axis=0) - 1e-9).all() and (
        empty_terms[0] <= terms.max(axis=0) + 1e-9
    ).all()
    assert model.raw_score(empty)[0] < model.raw_score(table).max()
    assert onboard(bundle, {})["basis"] == "model"


def test_without_an_onboarding_model_the_policy_rules_decide(bundle):
    rules_only = dataclasses.replace(bundle, onboarding=None)
    readme = onboard(rules_only, {"country": "DE", "annual_revenue": 2_500_000}, requested_limit=25_000)
    assert readme["basis"] == "rules" and readme["model_version"] == "onboarding:"
    assert readme["grade"] == bundle.policy.onboarding.rules.base_grade  # revenue band 1M-10M moves nothing
    strong = onboard(rules_only, {"bureau_score": 90, "years_in_business": 20, "annual_revenue": 5e7})
    weak = onboard(rules_only, {"bureau_score": 10, "years_in_business": 1, "annual_revenue": 1e5})
    assert strong["grade"] < readme["grade"] < weak["grade"]
    assert strong["decision"] == "approve" and weak["decision"] in {"prepayment_or_guarantee", "decline"}
    for answer in (readme, strong, weak):  # a PD in the rule grade's own band, rising with the grade
        assert bundle.policy.grade(answer["pd_12m"]) == answer["grade"]
    assert strong["pd_12m"] < readme["pd_12m"] < weak["pd_12m"]


def test_customers_in_default_get_pd_one_limit_zero_and_the_trigger_as_reason(portfolio, ledger):
    from riskmodel.labels import default_state

    state = default_state(ledger, AS_OF)
    defaulted = set(state.loc[state["in_default"], "customer_id"])
    scores = portfolio.scores.set_index("customer_id")
    flagged = set(scores.index[scores["in_default"]])
    assert flagged == defaulted & set(scores.index) and flagged
    assert (scores.loc[sorted(flagged), "pd_12m"] == 1.0).all()
    assert (scores.loc[sorted(flagged), "grade"] == 10).all()
    assert (scores.loc[sorted(flagged), "recommended_limit"] == 0).all()
    assert (scores.loc[sorted(flagged), "limit_rule"] == "stop_supply").all()
    assert all(
        r[0]["feature"] == "default_trigger" and len(r) == 1 for r in scores.loc[sorted(flagged), "reasons"]
    )
    assert (scores.loc[~scores["in_default"], "pd_12m"] < 1.0).all()
    assert set(state.loc[~state["in_default"], "customer_id"]) & set(
        scores.index[~scores["in_default"]]
    )  # cured: model-scored
