"""Alerts raised by ``/score`` live on in the results database: ``new`` once, then ``open``; a look back writes nothing."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from riskmodel.store import ResultsStore

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def stored(service, customer_id: str) -> pd.DataFrame:
    engine = sa.create_engine(service.db_url)
    with engine.connect() as con:
        rows = pd.read_sql(
            sa.text("SELECT alert_type, key, status FROM alerts WHERE customer_id = :c"),
            con,
            params={"c": customer_id},
        )
    engine.dispose()
    return rows


@pytest.fixture(scope="module")
def alerted(api) -> str:
    """A customer with open alerts at the ledger's end (the first of the portfolio's top alerts)."""
    response = api.post("/portfolio", json={"top_alerts": 1})
    assert response.status_code == 200, response.text
    (top,) = response.json()["top_alerts"]
    return top["customer_id"]


def test_an_alert_raised_by_score_is_new_once_then_open(api, service, alerted: str) -> None:
    first = api.post("/score", json={"customer_id": alerted}).json()
    assert first["alerts"] and {a["status"] for a in first["alerts"]} <= {"new", "open"}
    opened = stored(service, alerted)
    identities = {(a["alert_type"], str(a["key"])) for a in first["alerts"]}
    kept = opened[opened["status"] == "open"]
    assert set(zip(kept["alert_type"], kept["key"], strict=True)) == identities
    second = api.post("/score", json={"customer_id": alerted}).json()
    assert {a["status"] for a in second["alerts"]} == {"open"}
    again = stored(service, alerted)
    assert not again[again["status"] == "open"].duplicated(["alert_type", "key"]).any()
    assert len(again) == len(opened)


def test_a_look_back_writes_no_alert(api, service, alerted: str) -> None:
    before = ResultsStore(service.db_url)
    try:
        count = len(before.alert_history())
    finally:
        before.close()
    response = api.post("/score", json={"customer_id": alerted, "as_of": "2025-06-30"})
    assert response.status_code == 200, response.text
    after = ResultsStore(service.db_url)
    try:
        assert len(after.alert_history()) == count
    finally:
        after.close()


def test_improve_answers_the_smallest_payment_that_lifts_the_grade(api) -> None:
    portfolio = api.post("/score_batch", json={"customer_ids": [f"C{n:06d}" for n in range(2, 30)]}).json()
    graded = [
        r for r in portfolio["results"] if r["grade"] > 1 and not r["in_default"] and r["open_invoices"]
    ]
    assert graded
    answer = api.post("/score", json={"customer_id": graded[0]["customer_id"], "improve": True}).json()
    assert isinstance(answer["to_improve"], list)
    for item in answer["to_improve"]:
        assert item["grade"] < answer["grade"] and item["pd_12m"] <= item["target_pd"]
        assert item["text"]
    plain = api.post("/score", json={"customer_id": graded[0]["customer_id"]}).json()
    assert plain.get("to_improve") is None  # only when asked: it re-scores the customer several times
