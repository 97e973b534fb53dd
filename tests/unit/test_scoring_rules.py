"""Scoring without models: the payment-behaviour rules grade customers on every path (library, service, rescore).

The ledger is shaped like a small real one (``tests/small_ledger.py``: 40 customers, no
payments table); the bundle holds the policy only, so no MLflow store is needed.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from riskmodel.ledger import load_ledger
from riskmodel.policy import load_policy
from riskmodel.policy.texts import render
from riskmodel.rescore import export_frame, rescore_portfolio
from riskmodel.scoring import ModelBundle, customer_response, score_customers
from riskmodel.service.scorer import RiskScorer
from riskmodel.store import ResultsStore
from tests.small_ledger import END, profiles, write_small_ledger

AS_OF = END
BUNDLE = ModelBundle(policy=load_policy())


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    return load_ledger(write_small_ledger(tmp_path_factory.mktemp("small") / "ledger"))


@pytest.fixture(scope="module")
def portfolio(ledger):
    return score_customers(BUNDLE, ledger, AS_OF)


@pytest.fixture(scope="module")
def scorer(ledger, tmp_path_factory):
    results = ResultsStore(tmp_path_factory.mktemp("service") / "results.db")
    yield RiskScorer(BUNDLE, ledger, results)
    results.close()


def test_a_bundle_without_models_grades_by_the_rules(portfolio):
    scores = portfolio.scores
    assert BUNDLE.basis == "rules" and len(scores) == 40
    assert (scores["basis"] == "rules").all()
    np.testing.assert_array_equal(scores["grade"], BUNDLE.policy.grade(scores["pd_12m"].to_numpy()))
    performing = scores[~scores["in_default"]]
    assert performing["pd_12m"].tolist() == [BUNDLE.policy.central_pd(g) for g in performing["grade"]]
    assert all(
        [r["rule"] for r in reasons][-1] == "base" and len(reasons) == 5 for reasons in performing["reasons"]
    )
    assert performing["grade"].nunique() >= 4  # the rules tell customers apart


def test_customers_in_default_keep_the_default_handling(portfolio):
    scores = portfolio.scores
    defaulted = scores[scores["in_default"]]
    assert len(defaulted) and set(defaulted["customer_id"]) <= {
        c for c, p in profiles().items() if p == "failing"
    }
    assert (defaulted["pd_12m"] == 1.0).all() and (defaulted["grade"] == 10).all()
    assert (defaulted["recommended_limit"] == 0).all() and (defaulted["limit_rule"] == "stop_supply").all()
    assert all(r[0]["feature"] == "default_trigger" and len(r) == 1 for r in defaulted["reasons"])


@pytest.mark.parametrize("as_of", [date(2024, 6, 30), AS_OF], ids=str)
def test_worse_payers_get_worse_rule_grades(ledger, as_of):
    scores = score_customers(BUNDLE, ledger, as_of).scores
    grade = scores.set_index("customer_id")["grade"]
    profile = grade.index.map(profiles())
    mean = grade.groupby(profile).mean()
    assert mean["prompt"] < mean["slow"] and mean["prompt"] < mean["erratic"]
    assert grade[profile == "prompt"].median() <= 4 and grade[profile == "slow"].median() >= 6
    assert (grade[profile == "failing"] == 10).all()  # in default by then


def test_limits_and_alerts_work_from_the_rule_grade(portfolio):
    scores = portfolio.scores
    multiplier = np.asarray(BUNDLE.policy.credit_limit.grade_multiplier)
    np.testing.assert_array_equal(portfolio.limits["grade_multiplier"], multiplier[scores["grade"] - 1])
    levels = portfolio.alerts.new[portfolio.alerts.new["alert_type"] == "pd_level"]
    threshold = BUNDLE.policy.alerts.pd_level.levels[0].threshold
    in_default = scores["in_default"].astype(bool)
    assert set(levels["customer_id"]) == set(
        scores.loc[(scores["pd_12m"] >= threshold) & ~in_default, "customer_id"]
    )
    assert len(levels) and len(levels) < len(scores)
    defaulted = portfolio.alerts.open[
        portfolio.alerts.open["customer_id"].isin(scores.loc[in_default, "customer_id"])
    ]
    assert set(defaulted["alert_type"]) == {"in_default"}  # one alert each, not every symptom
    assert set(defaulted["customer_id"]) == set(scores.loc[in_default, "customer_id"])


def test_the_score_answer_says_rules_and_what_is_missing(portfolio):
    customer_id = portfolio.open_invoices["customer_id"].iloc[0]
    body = customer_response(portfolio, customer_id, BUNDLE, lang="en")
    assert body["basis"] == "rules" and body["model_version"] == ""
    assert body["notes"] == [render("note.rules_basis", "en"), render("note.no_late_payment_model", "en")]
    assert body["open_invoices"] and all(i["p_late"] is None for i in body["open_invoices"])
    assert body["reasons"][-1]["rule"] == "base"


def test_the_service_answers_equal_the_batch_rows(scorer, portfolio):
    batch = portfolio.scores.set_index("customer_id")
    for customer_id in batch.index[::7]:
        answer = scorer.score(customer_id, AS_OF, "en")
        row = batch.loc[customer_id]
        assert (answer["basis"], answer["grade"], answer["pd_12m"]) == ("rules", row["grade"], row["pd_12m"])
        assert answer["reasons"] == json.loads(json.dumps(row["reasons"]))
        assert answer["recommended_limit"] == pytest.approx(row["recommended_limit"])


def test_the_service_portfolio_and_status_say_rules(scorer):
    body = scorer.portfolio(AS_OF, "zh", top_alerts=5)
    assert (
        body["basis"] == "rules"
        and sum(g["n_customers"] for g in body["grades"]) == body["n_customers"] == 40
    )
    assert body["notes"] == [render("note.rules_basis", "zh")]
    status = scorer.status()
    assert status["basis"] == {"score": "rules", "onboard": "rules"} and status["models"] == {}


def test_invoice_answers_without_a_late_payment_model_list_the_invoices_and_say_so(scorer, portfolio):
    customer_id = portfolio.open_invoices["customer_id"].iloc[0]
    body = scorer.invoice_risk(customer_id, None, AS_OF, "en")
    open_ids = portfolio.open_invoices.loc[
        portfolio.open_invoices["customer_id"] == customer_id, "invoice_id"
    ]
    assert [i["invoice_id"] for i in body["invoices"]] == open_ids.tolist()
    assert all(
        i["p_late"] is None and i["p_late_90"] is None and i["reasons"] == [] for i in body["invoices"]
    )
    assert body["notes"] == [render("note.no_late_payment_model", "en")]
    assert body["model_version"] == "late_payment:"


def test_rescoring_stores_and_exports_the_basis(ledger, portfolio, tmp_path):
    store = ResultsStore(tmp_path / "results.db")
    result = rescore_portfolio(ledger, BUNDLE, AS_OF, store, chunk_size=15)
    stored = store.scores_for(AS_OF, BUNDLE.model_version).set_index("customer_id")
    exported = export_frame(store, AS_OF, BUNDLE.model_version).set_index("customer_id")
    store.close()
    assert result.status == "finished" and len(stored) == 40
    assert (stored["basis"] == "rules").all() and (exported["basis"] == "rules").all()
    batch = portfolio.scores.set_index("customer_id")
    assert stored["grade"].to_dict() == batch["grade"].to_dict()
    performing = batch.index[~batch["in_default"]][0]
    assert json.loads(stored.loc[performing, "reasons"]) == json.loads(
        json.dumps(batch.loc[performing, "reasons"])
    )


def test_the_cash_forecast_without_a_late_payment_model_gives_the_open_book_and_says_why(scorer, portfolio):
    body = scorer.cash_forecast(None, AS_OF, 13, "zh")
    book = portfolio.open_invoices["open_amount"].sum()
    assert body["weeks"] == [] and body["expected_in_weeks"] is None and body["remaining"] is None
    assert body["open_amount"] == pytest.approx(book) and body["n_invoices"] == len(portfolio.open_invoices)
    assert (
        body["notes"] == [render("note.no_cash_forecast", "zh")] and body["model_version"] == "late_payment:"
    )
