"""The running service answers every endpoint with DESIGN.md's fields, and refuses bad calls with useful 4xx bodies."""

from __future__ import annotations

import json

import httpx
import psutil
import pytest

from riskmodel.service.responses import (
    ErrorResponse,
    InvoiceRiskResponse,
    OnboardResponse,
    PortfolioResponse,
    ScoreBatchResponse,
    ScoreResponse,
    StatusResponse,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CUSTOMER = "C000008"  # in data/sample: not in default, 9 open invoices at the data end, one disputed
APPLICATION = {
    "country": "DE",
    "industry": "manufacturing",
    "annual_revenue": 2_000_000,
    "years_in_business": 8,
    "bureau_score": 700,
    "payment_terms_days": 30,
    "requested_limit": 20_000,
}


def error_of(response: httpx.Response, status: int) -> ErrorResponse:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return ErrorResponse.model_validate(response.json())


def test_score_has_the_design_fields(api):
    response = api.post("/score", json={"customer_id": CUSTOMER})
    assert response.status_code == 200, response.text
    body = ScoreResponse.model_validate(response.json())
    assert body.customer_id == CUSTOMER and 0 <= body.pd_12m <= 1 and 1 <= body.grade <= 10
    assert body.open_invoices and body.limit_rationale.steps
    assert all(reason.contribution >= 0.1 for reason in body.reasons)  # the policy's reasons.min_contribution
    assert body.model_version.startswith("default:") and body.basis == "model" and body.notes == []
    assert response.headers["x-model-version"] == body.model_version


def test_score_defaults_to_the_ledger_data_end(api):
    status = StatusResponse.model_validate(api.get("/status").json())
    body = api.post("/score", json={"customer_id": CUSTOMER}).json()
    assert body["as_of"] == status.ledger.data_end.isoformat()


def test_score_speaks_chinese(api):
    body = api.post("/score", json={"customer_id": CUSTOMER, "lang": "zh"}).json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["limit_rationale"]["text"])


def test_score_batch_scores_known_customers_and_lists_the_rest(api):
    response = api.post("/score_batch", json={"customer_ids": [CUSTOMER, "C000005", "NO-SUCH", CUSTOMER]})
    body = ScoreBatchResponse.model_validate(response.json())
    assert [r.customer_id for r in body.results] == [CUSTOMER, "C000005"]
    assert [p.customer_id for p in body.not_scored] == ["NO-SUCH"]


def test_invoice_risk_of_a_customer_gives_each_open_invoice(api):
    score = api.post("/score", json={"customer_id": CUSTOMER}).json()
    body = InvoiceRiskResponse.model_validate(
        api.post("/invoice_risk", json={"customer_id": CUSTOMER}).json()
    )
    assert [i.invoice_id for i in body.invoices] == [i["invoice_id"] for i in score["open_invoices"]]
    for invoice, in_score in zip(body.invoices, score["open_invoices"], strict=True):
        assert invoice.is_open
        late = [invoice.p_late, invoice.p_late_30, invoice.p_late_60, invoice.p_late_90]
        assert late == sorted(late, reverse=True)
        assert invoice.p_late == pytest.approx(in_score["p_late"], abs=1e-12)


def test_invoice_risk_by_ids_keeps_their_order_and_scores_settled_ones(api):
    ids = ["INV00067022", "INV00000001"]  # an open invoice of CUSTOMER, then a settled one
    body = InvoiceRiskResponse.model_validate(api.post("/invoice_risk", json={"invoice_ids": ids}).json())
    assert [i.invoice_id for i in body.invoices] == ids
    assert body.invoices[0].is_open and body.invoices[0].open_amount > 0
    assert body.invoices[1].is_open is False and body.invoices[1].open_amount is None
    assert all(r.contribution > 0 for i in body.invoices for r in i.reasons)


def test_onboard_decides(api):
    body = OnboardResponse.model_validate(api.post("/onboard", json=APPLICATION).json())
    assert 0 <= body.pd_12m <= 1 and body.rationale.text and body.basis == "model"
    assert body.initial_limit <= APPLICATION["requested_limit"]


def test_portfolio_counts_every_active_customer_once(api):
    body = PortfolioResponse.model_validate(api.post("/portfolio", json={"top_alerts": 5}).json())
    assert [g.grade for g in body.grades] == list(range(1, 11))
    assert sum(g.n_customers for g in body.grades) == body.n_customers > 0
    assert len(body.top_alerts) <= 5
    levels = [a.severity_level for a in body.top_alerts]
    assert levels == sorted(levels, reverse=True)


def test_status_reports_versions(service):
    body = StatusResponse.model_validate(httpx.get(f"{service.url}/status").json())
    assert set(body.models) == {"default", "late_payment", "onboarding"}
    assert body.auth is True and body.policy_version


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz", "/metrics", "/docs.json", "/console/"])
def test_infrastructure_routes_are_open(service, path):
    assert httpx.get(f"{service.url}{path}").status_code == 200


def test_each_worker_listens_on_the_port_itself(service):
    """``riskmodel serve`` gives each worker a socket of its own (SO_REUSEPORT): the kernel spreads connections."""
    port = int(service.url.rsplit(":", 1)[1])
    server = psutil.Process(service.pid)

    def listens(process: psutil.Process) -> bool:
        return any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in process.net_connections("tcp")
        )

    workers = [p for p in server.children(recursive=True) if "_bentoml_impl.worker" in " ".join(p.cmdline())]
    assert len(workers) == 2 and all(listens(worker) for worker in workers)
    assert not listens(server)


def test_metrics_count_scoring_requests(service, api):
    api.post("/score", json={"customer_id": CUSTOMER})
    metrics = httpx.get(f"{service.url}/metrics").text
    assert 'endpoint="/score"' in metrics


@pytest.mark.parametrize("key", ["", "wrong-key-0123456789"], ids=["missing", "unknown"])
def test_calls_without_a_valid_key_get_401(service, key):
    with service.client(key) as client:
        response = client.post("/score", json={"customer_id": CUSTOMER})
    assert "Authorization: Bearer" in error_of(response, 401).error
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_customer_is_404(api):
    body = error_of(api.post("/score", json={"customer_id": "NO-SUCH"}), 404)
    assert "NO-SUCH" in body.error and body.detail[0].field == "customer_id"


def test_unknown_invoice_is_404_naming_the_item(api):
    body = error_of(api.post("/invoice_risk", json={"invoice_ids": ["INV00067022", "NOPE"]}), 404)
    assert body.detail[0].field == "invoice_ids[1]"


@pytest.mark.parametrize(
    ("route", "payload", "field", "says"),
    [
        ("/score", {}, "customer_id", "required"),
        ("/score", {"customer_id": CUSTOMER, "as_of": "2025-02-30"}, "as_of", "date"),
        ("/score", {"customer_id": CUSTOMER, "as_of": "1800-01-01"}, "as_of", "greater than or equal"),
        ("/score", {"customer_id": CUSTOMER, "lang": "fr"}, "lang", "'en' or 'zh'"),
        ("/score", {"customer_id": 12}, "customer_id", "string"),
        ("/score", {"customer_id": CUSTOMER, "customerid": "x"}, "customerid", "unknown field"),
        ("/onboard", {"annual_revenue": -5}, "annual_revenue", "greater than or equal to 0"),
        ("/onboard", {"requested_limit": "lots"}, "requested_limit", "number"),
        ("/score_batch", {"customer_ids": []}, "customer_ids", "at least 1"),
        ("/portfolio", {"top_alerts": 0}, "top_alerts", "greater than or equal to 1"),
        ("/invoice_risk", {}, "", "customer_id"),
    ],
    ids=[
        "missing-id", "bad-date", "too-early", "unknown-lang", "wrong-type", "typo",
        "negative-revenue", "text-amount", "empty-batch", "zero-top", "nothing-named",
    ],
)  # fmt: skip
def test_malformed_bodies_get_422_naming_the_field(api, route, payload, field, says):
    body = error_of(api.post(route, json=payload), 422)
    assert body.detail[0].field == field
    assert says in body.detail[0].message


def test_as_of_after_the_data_end_is_422(api):
    body = error_of(api.post("/score", json={"customer_id": CUSTOMER, "as_of": "2099-01-01"}), 422)
    assert "data end" in body.error


def test_invalid_json_is_422(api):
    response = api.post("/score", content=b'{"customer_id": ', headers={"Content-Type": "application/json"})
    assert "not valid JSON" in error_of(response, 422).detail[0].message


def test_other_media_types_are_415(api):
    response = api.post("/score", content=b"customer_id=C1", headers={"Content-Type": "text/plain"})
    error_of(response, 415)


def test_huge_bodies_are_413_before_any_work(api):
    payload = json.dumps({"customer_id": CUSTOMER, "padding": "x" * (2 << 20)}).encode()
    response = api.post("/score", content=payload, headers={"Content-Type": "application/json"})
    assert "larger than" in error_of(response, 413).error


def _history(**invoice) -> dict:
    return {
        "customers": [{"customer_id": "W1", "onboarding_date": "2024-01-01", "credit_limit": 10_000, "payment_terms_days": 30}],
        "invoices": [
            {"invoice_id": "A", "customer_id": "W1", "issue_date": "2024-02-01", "due_date": "2024-03-02", "amount": 1_000,
             "settled_date": "2024-03-10"},
            {"invoice_id": "B", "customer_id": "W1", "issue_date": "2024-05-01", "due_date": "2024-05-31", "amount": 2_500} | invoice,
        ],
    }  # fmt: skip


def test_inline_history_is_scored_as_a_what_if(api):
    response = api.post("/score", json={"customer_id": "W1", "as_of": "2024-08-31", "history": _history()})
    body = ScoreResponse.model_validate(response.json())
    assert body.as_of.isoformat() == "2024-08-31"
    assert [i.invoice_id for i in body.open_invoices] == ["B"] and body.open_invoices[0].days_past_due == 92


@pytest.mark.parametrize(
    ("invoice", "field", "says"),
    [
        ({"amount": -2_500}, "history.invoices[1].amount", "must be greater than 0"),
        ({"due_date": "2024-04-01"}, "history.invoices[1].due_date", "before issue_date"),
        ({"customer_id": "W2"}, "history.invoices[1].customer_id", "not among the accepted customers"),
    ],
    ids=["negative-amount", "due-before-issue", "unknown-customer"],
)
def test_inline_history_breaking_ledger_rules_is_422_naming_the_row(api, invoice, field, says):
    body = error_of(api.post("/score", json={"customer_id": "W1", "history": _history(**invoice)}), 422)
    assert body.detail[0].field == field and says in body.detail[0].message
