"""Batch rescoring and the service give the same answer: stored rows equal the service's ``/score`` bodies."""

from __future__ import annotations

import json
from datetime import date

import pytest

from riskmodel.service.scorer import RiskScorer
from riskmodel.store import ResultsStore

pytestmark = pytest.mark.slow
AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def rescored(bundle, sample_ledger, tmp_path_factory):
    """A first rescoring (no alert memory) in chunks, so that chunk edges are crossed."""
    from riskmodel.rescore import rescore_portfolio

    store = ResultsStore(tmp_path_factory.mktemp("batch") / "results.db")
    result = rescore_portfolio(sample_ledger, bundle, AS_OF, store, chunk_size=250)
    yield store, result.run_id
    store.close()


@pytest.fixture(scope="module")
def scorer(bundle, sample_ledger, tmp_path_factory):
    """The service's scorer over an empty results database: no alert memory either."""
    results = ResultsStore(tmp_path_factory.mktemp("service") / "results.db")
    yield RiskScorer(bundle, sample_ledger, results)
    results.close()


def _same(mine, theirs) -> bool:
    """Equal, numbers within rounding (both absent counts as equal)."""
    if isinstance(mine, int | float) and isinstance(theirs, int | float):
        return mine == pytest.approx(theirs, nan_ok=True)
    return mine == theirs


def _alerts(records) -> set[tuple[str, str, str, str]]:
    return {(r["alert_type"], str(r["key"]), r["severity"], r["text"]) for r in records}


def test_rescored_rows_equal_the_service_answers_field_by_field(rescored, scorer, bundle):
    store, run_id = rescored
    stored = store.scores_for(AS_OF, bundle.model_version).set_index("customer_id")
    opened = store.alerts_opened_in(run_id)
    assert len(stored) > 500
    customers = list(stored.index[::61])
    customers += [c for c in opened["customer_id"].unique()[:3] if c not in customers]  # with alerts
    for customer_id in customers:
        answer = scorer.score(customer_id, AS_OF, "en")
        row = stored.loc[customer_id]
        assert answer["pd_12m"] == pytest.approx(row["pd_12m"], abs=1e-12), customer_id
        assert answer["grade"] == row["grade"], customer_id
        assert _same(answer["current_limit"], row["current_limit"]), customer_id
        assert answer["recommended_limit"] == pytest.approx(row["recommended_limit"])
        rationale = json.loads(row["limit_rationale"])
        assert (answer["limit_rationale"]["rule"], answer["limit_rationale"]["text"]) == (
            rationale["rule"],
            rationale["text"],
        )
        reasons = json.loads(row["reasons"])
        assert [r["feature"] for r in answer["reasons"]] == [r["feature"] for r in reasons]
        for mine, theirs in zip(answer["reasons"], reasons, strict=True):
            assert mine["contribution"] == pytest.approx(theirs["contribution"], abs=1e-9)
            assert _same(mine["value"], theirs["value"]) and _same(mine["comparison"], theirs["comparison"])
            assert mine["description"] == theirs["description"]
        batch_alerts = opened[opened["customer_id"] == customer_id].to_dict("records")
        assert _alerts(answer["alerts"]) == _alerts(batch_alerts), customer_id
        assert answer["policy_version"] == row["policy_version"]


def test_open_invoices_get_the_same_timing_from_the_service_and_the_rescoring_engine(
    scorer, bundle, sample_ledger
):
    """The same invoice on the same date: equal probabilities and dates, conditional on being open then."""
    from riskmodel.jsonable import to_jsonable
    from riskmodel.rescore.engines import LocalEngine
    from riskmodel.scoring import INVOICE_SCORE_COLUMNS, open_invoices

    invoices = open_invoices(sample_ledger, AS_OF)
    late = invoices[invoices["days_past_due"] > 30]
    customers = list(dict.fromkeys([*late["customer_id"].head(3), *invoices["customer_id"].head(2)]))
    batch = LocalEngine().score_invoices(
        bundle, sample_ledger, invoices[invoices["customer_id"].isin(customers)]
    )
    batch = batch.set_index("invoice_id")
    checked = 0
    for customer_id in customers:
        for invoice in scorer.score(customer_id, AS_OF, "en")["open_invoices"]:
            row = batch.loc[invoice["invoice_id"]]
            for column in INVOICE_SCORE_COLUMNS[1:]:
                theirs = to_jsonable(row[column])
                assert _same(to_jsonable(invoice[column]), theirs), (invoice["invoice_id"], column)
            for k, column in ((0, "p_late"), (30, "p_late_30"), (60, "p_late_60"), (90, "p_late_90")):
                if invoice["days_past_due"] >= k:
                    assert invoice[column] == 1.0
            assert date.fromisoformat(to_jsonable(invoice["payment_date_p10"])) > AS_OF
            checked += 1
    assert checked >= 5
