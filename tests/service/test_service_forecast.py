"""``POST /cash_forecast`` on the running service: weekly rows that add up to the open book, and 4xx for bad calls."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from riskmodel.service.responses import CashForecastResponse, ErrorResponse, StatusResponse

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CUSTOMER = "C000008"  # in data/sample: open invoices at the data end


def test_the_portfolio_forecast_has_13_weeks_that_add_up_to_the_open_book(api):
    status = StatusResponse.model_validate(api.get("/status").json())
    response = api.post("/cash_forecast", json={})
    assert response.status_code == 200, response.text
    body = CashForecastResponse.model_validate(response.json())
    assert body.as_of == status.ledger.data_end and body.customer_id is None and body.notes == []
    assert body.model_version.startswith("late_payment:") and body.model_version != "late_payment:"
    assert [w.week for w in body.weeks] == list(range(1, 14))
    assert [w.week_start for w in body.weeks] == [body.as_of + timedelta(days=7 * i + 1) for i in range(13)]
    assert all(0 <= w.low <= w.expected <= w.high for w in body.weeks)
    assert body.expected_in_weeks == pytest.approx(sum(w.expected for w in body.weeks))
    assert body.expected_in_weeks + body.remaining == pytest.approx(body.open_amount, rel=1e-9)
    assert body.n_invoices > 100 and body.open_amount > 0


def test_a_customer_forecast_covers_its_open_invoices(api):
    as_of = "2025-06-30"
    score = api.post("/score", json={"customer_id": CUSTOMER, "as_of": as_of}).json()
    response = api.post("/cash_forecast", json={"customer_id": CUSTOMER, "as_of": as_of, "weeks": 4})
    assert response.status_code == 200, response.text
    body = CashForecastResponse.model_validate(response.json())
    assert body.customer_id == CUSTOMER and body.as_of == date.fromisoformat(as_of) and len(body.weeks) == 4
    assert body.n_invoices == len(score["open_invoices"])
    assert body.open_amount == pytest.approx(sum(i["open_amount"] for i in score["open_invoices"]))
    assert body.expected_in_weeks + body.remaining == pytest.approx(body.open_amount, rel=1e-9)


@pytest.mark.parametrize(
    ("payload", "status", "field", "says"),
    [
        ({"customer_id": "NO-SUCH"}, 404, "customer_id", "unknown customer"),
        ({"weeks": 0}, 422, "weeks", "greater than or equal to 1"),
        ({"weeks": 500}, 422, "weeks", "less than or equal to 104"),
        ({"as_of": "2099-01-01"}, 422, "as_of", "data end"),
        ({"customer": CUSTOMER}, 422, "customer", "unknown field"),
    ],
    ids=["unknown-customer", "no-weeks", "too-many-weeks", "after-data-end", "typo"],
)
def test_bad_calls_get_a_4xx_naming_the_field(api, payload, status, field, says):
    response = api.post("/cash_forecast", json=payload)
    assert response.status_code == status, response.text
    body = ErrorResponse.model_validate(response.json())
    assert body.detail[0].field == field and says in body.detail[0].message + body.error


def test_a_call_without_a_key_is_401(service):
    with service.client(key="") as anonymous:
        assert anonymous.post("/cash_forecast", json={}).status_code == 401
