"""Every decision the service answers is in the audit trail, under the caller's key id and never the key."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from riskmodel.service.keys import key_id
from riskmodel.store import ResultsStore

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def audit(service, api):
    """The audit rows written by one call of each decision endpoint (and one refused call)."""
    store = ResultsStore(service.db_url)
    before = int(store.decisions(limit=1)["audit_id"].max()) if len(store.decisions(limit=1)) else 0
    calls = {
        "score": {"customer_id": "C000007"},
        "score_batch": {"customer_ids": ["C000007", "C000008"]},
        "invoice_risk": {"customer_id": "C000007"},
        "onboard": {"annual_revenue": 1e6, "requested_limit": 5_000},
        "cash_forecast": {"customer_id": "C000007", "weeks": 4},
    }
    responses = {endpoint: api.post(f"/{endpoint}", json=body) for endpoint, body in calls.items()}
    assert all(r.status_code == 200 for r in responses.values()), {k: r.text for k, r in responses.items()}
    api.post("/score", json={"customer_id": "NO-SUCH"})  # refused: not a decision
    rows = store.decisions(limit=100)
    store.close()
    return rows[rows["audit_id"] > before].set_index("endpoint"), calls, responses


def test_each_decision_is_recorded_once(audit):
    rows, calls, _ = audit
    assert sorted(rows.index) == sorted(calls)


def test_rows_hold_request_response_and_versions(audit):
    rows, calls, responses = audit
    for endpoint, body in calls.items():
        row = rows.loc[endpoint]
        assert {k: v for k, v in json.loads(row["request"]).items() if k in body} == body
        assert json.loads(row["response"]) == responses[endpoint].json()
        assert set(json.loads(row["model_versions"])) == {"default", "late_payment", "onboarding"}
        assert row["policy_version"] and row["at"] is not None


def test_rows_name_the_customer_where_there_is_one(audit):
    rows, _, _ = audit
    assert rows.loc["score", "customer_id"] == "C000007"
    assert pd.isna(rows.loc["onboard", "customer_id"])


def test_caller_is_the_key_id_not_the_key(audit, service):
    rows, _, _ = audit
    assert set(rows["key_id"]) == {key_id(service.key)}
    assert not rows.apply(lambda row: service.key in " ".join(map(str, row.to_numpy())), axis=1).any()


def test_the_log_holds_no_customer_data_or_key(service, audit):
    log = service.log.read_text(encoding="utf-8")
    assert "C000007" not in log and service.key not in log
