"""The web console in headless Chromium: lookup, onboarding and portfolio show what the API answers.

Screenshots go to ``test-output/console/``. Skipped (with the reason) only when no Chromium
is installed; ``make test`` installs it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SHOTS = REPO / "test-output" / "console"
CUSTOMER = "C000008"  # in data/sample: not in default, open invoices at the data end
REQUESTS: list[str] = []  # every URL the console asked for
APPLICATION = {
    "country": "DE",
    "annual_revenue": "2500000",
    "years_in_business": "12",
    "requested_limit": "25000",
}


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def pct(p: float) -> str:
    """The console's PD format."""
    return f"{p * 100:.2f}%"


def amount(x: float) -> str:
    return f"{x:,.0f}"


def assert_forecast_chart(page, panel: str, forecast: dict) -> None:
    """The panel's chart has one bar per week of the API's forecast with its values, and the summary's figures."""
    page.wait_for_selector(f"{panel}-chart g.week")
    weeks = page.locator(f"{panel}-chart g.week").evaluate_all(
        "gs => gs.map(g => [g.dataset.weekStart, Number(g.dataset.expected), Number(g.dataset.low), Number(g.dataset.high)])"
    )
    assert len(weeks) == len(forecast["weeks"]) == 13
    for shown, week in zip(weeks, forecast["weeks"], strict=True):
        assert shown[0] == week["week_start"]
        assert shown[1:] == pytest.approx([week["expected"], week["low"], week["high"]])
    summary = page.text_content(f"{panel}-summary")
    assert amount(forecast["open_amount"]) in summary and amount(forecast["remaining"]) in summary


@pytest.fixture(scope="module")
def page(service) -> Iterator:
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium found (/usr/bin/chromium or on PATH); 'make test' installs it with apt-get")
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1360, "height": 1000}, locale="en-US")
        page = context.new_page()
        page.on("request", lambda request: REQUESTS.append(request.url))
        page.goto(f"{service.url}/console/")
        page.fill("#key-input", service.key)
        page.click("#key-save")
        yield page
        context.close()
        browser.close()


def test_customer_lookup_shows_the_api_figures(page, api):
    expected = api.post("/score", json={"customer_id": CUSTOMER, "lang": "en"}).json()
    page.fill("#customer-id", CUSTOMER)
    page.click("#customer-submit")
    page.wait_for_selector("#customer-result:not([hidden])")
    assert page.text_content("#pd") == pct(expected["pd_12m"])
    assert float(page.get_attribute("#pd", "data-value")) == pytest.approx(expected["pd_12m"], abs=1e-15)
    assert page.text_content("#grade") == str(expected["grade"])
    assert page.get_attribute("#grade-basis", "data-value") == "model" and page.is_hidden("#reasons-steps")
    assert page.text_content("#current-limit") == amount(expected["current_limit"])
    assert page.text_content("#recommended-limit") == amount(expected["recommended_limit"])
    assert page.text_content("#limit-text") == expected["limit_rationale"]["text"]
    bars = page.locator("#reasons-chart g.bar")
    assert bars.count() == len(expected["reasons"])
    values = page.locator("#reasons-values li:not(.empty)").all_text_contents()
    assert len(values) == len(expected["reasons"])
    for i, reason in enumerate(expected["reasons"]):
        assert float(bars.nth(i).get_attribute("data-value")) == pytest.approx(reason["contribution"])
        assert values[i].startswith(f"{reason['description']}: {reason['value_text']}")
        assert reason["comparison_text"] is None or values[i].endswith(f"{reason['comparison_text']})")
    rows = page.locator("#invoice-table tbody tr")
    assert rows.count() == len(expected["open_invoices"])
    first = expected["open_invoices"][0]
    assert rows.first.locator("td.p_late").text_content() == pct(first["p_late"])
    assert rows.first.locator("td.p_late_90").text_content() == pct(first["p_late_90"])
    assert page.locator("#aging-chart g.bar").count() == 5
    aging_total = sum(
        float(v)
        for v in page.locator("#aging-chart g.bar").evaluate_all("gs => gs.map(g => g.dataset.value)")
    )
    assert aging_total == pytest.approx(sum(i["open_amount"] for i in expected["open_invoices"]))
    assert page.locator("#alerts li.alert").count() == len(expected["alerts"])
    forecast = api.post("/cash_forecast", json={"customer_id": CUSTOMER, "as_of": expected["as_of"]}).json()
    assert_forecast_chart(page, "#customer-forecast", forecast)
    page.screenshot(path=str(SHOTS / "customer.png"), full_page=True)


def test_improve_button_shows_the_payment_that_lifts_a_grade(page, api):
    batch = api.post("/score_batch", json={"customer_ids": [f"C{n:06d}" for n in range(1, 61)]}).json()
    candidates = [r["customer_id"] for r in batch["results"] if r["grade"] > 1 and r["grade"] < 10]
    for customer in candidates[:15]:
        expected = api.post("/score", json={"customer_id": customer, "improve": True, "lang": "en"}).json()
        if expected["to_improve"]:
            break
    else:
        pytest.fail(f"none of {candidates[:15]} can be lifted a grade by a payment")
    page.click("button.tab[data-page=customer]")
    page.fill("#customer-id", customer)
    page.click("#customer-submit")
    page.wait_for_function(
        "id => document.querySelector('#improve-submit').dataset.customer === id", arg=customer
    )
    assert page.is_hidden("#improve-list")
    page.click("#improve-submit")
    page.wait_for_selector("#improve-list:not([hidden])")
    items = page.locator("#improve-list li")
    assert items.all_text_contents() == [item["text"] for item in expected["to_improve"]]
    assert float(items.first.get_attribute("data-pd")) == pytest.approx(expected["to_improve"][0]["pd_12m"])
    assert int(items.first.get_attribute("data-grade")) < expected["grade"]
    page.screenshot(path=str(SHOTS / "customer-improve.png"), full_page=True)


def test_onboarding_form_shows_the_decision(page, api):
    expected = api.post(
        "/onboard", json={k: (v if k == "country" else float(v)) for k, v in APPLICATION.items()}
    ).json()
    page.click("button.tab[data-page=onboarding]")
    for name, value in APPLICATION.items():
        page.fill(f"#onboard-form [name={name}]", value)
    page.click("#onboard-submit")
    page.wait_for_selector("#onboard-result:not([hidden])")
    assert page.get_attribute("#decision", "data-value") == expected["decision"]
    assert page.text_content("#onboard-pd") == pct(expected["pd_12m"])
    assert page.text_content("#initial-limit") == amount(expected["initial_limit"])
    assert page.text_content("#onboard-text") == expected["rationale"]["text"]
    page.screenshot(path=str(SHOTS / "onboarding.png"), full_page=True)


def test_portfolio_page_shows_every_grade(page, api):
    expected = api.post("/portfolio", json={}).json()
    page.click("button.tab[data-page=portfolio]")
    page.click("#portfolio-submit")
    page.wait_for_selector("#portfolio-result:not([hidden])")
    assert page.text_content("#portfolio-n") == amount(expected["n_customers"])
    counts = page.locator("#grade-chart g.bar").evaluate_all("gs => gs.map(g => Number(g.dataset.value))")
    assert counts == [g["n_customers"] for g in expected["grades"]]
    assert_forecast_chart(page, "#portfolio-forecast", api.post("/cash_forecast", json={}).json())
    page.screenshot(path=str(SHOTS / "portfolio.png"), full_page=True)


def test_chinese_switch_translates_labels_and_answers(page, api):
    page.select_option("#lang", "zh")
    page.click("button.tab[data-page=customer]")
    assert page.text_content("button.tab[data-page=customer]") == "客户"
    page.click("#customer-submit")
    expected = api.post("/score", json={"customer_id": CUSTOMER, "lang": "zh"}).json()
    page.wait_for_function(
        "text => document.querySelector('#limit-text').textContent === text",
        arg=expected["limit_rationale"]["text"],
    )
    assert page.text_content("#customer-forecast h2") == "未来13周每周预计现金回款（80%区间）"
    page.screenshot(path=str(SHOTS / "customer-zh.png"), full_page=True)
    page.select_option("#lang", "en")


def test_api_errors_are_shown(page):
    page.click("button.tab[data-page=customer]")
    page.fill("#customer-id", "NO-SUCH")
    page.click("#customer-submit")
    page.wait_for_selector("#message:not([hidden])")
    assert "NO-SUCH" in page.text_content("#message")


def test_console_loads_nothing_from_elsewhere(page, service):
    assert REQUESTS and all(url.startswith(service.url) for url in REQUESTS)
