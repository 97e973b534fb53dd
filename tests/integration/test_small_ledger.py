"""A small real-shaped ledger held back in time: train on its earlier part, score its later part, never a 5xx.

40 customers, about 3,000 invoices over three years, one terms value, no payments table
(``tests/small_ledger.py``). ``riskmodel train --as-of`` sees the first two and a half years:
the late-payment model is trained, the default and onboarding models are skipped for want of
positive cases, and every customer answer of ``rescore`` and of the running service comes
from the policy's payment-behaviour rules (``"basis": "rules"``).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.service.responses import (
    InvoiceRiskResponse,
    OnboardResponse,
    PortfolioResponse,
    ScoreBatchResponse,
    ScoreResponse,
    StatusResponse,
)
from tests.service.conftest import RunningService, running_service
from tests.small_ledger import END, profiles, write_small_ledger

pytestmark = [pytest.mark.slow, pytest.mark.integration]
TRAIN_END = "2024-06-30"  # the earlier part; scores are asked for after it
LATER = ("2024-09-30", END.isoformat())


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["-q", *args])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict]:
    """The ledger, the tracking URI of its models trained up to ``TRAIN_END``, and training's last stdout line."""
    root = tmp_path_factory.mktemp("small_ledger")
    ledger = write_small_ledger(root / "ledger")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    code, stdout = run_cli("train", str(ledger), "--as-of", TRAIN_END, "--tracking-uri", uri)
    assert code == 0, stdout
    return ledger, uri, json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def service(trained, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    ledger, uri, _ = trained
    with running_service(ledger, uri, tmp_path_factory.mktemp("small_service")) as running:
        yield running


@pytest.fixture(scope="module")
def api(service: RunningService) -> Iterator[httpx.Client]:
    with service.client() as client:
        yield client


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, f"{response.status_code}: {response.text}"
    return response.json()


def test_training_trains_what_it_can_and_says_why_it_skips_the_rest(trained):
    _, _, headline = trained
    assert headline["late_payment"]["version"] == "1" and headline["late_payment"]["auc"] > 0.6
    default = headline["default"]["skipped"]
    assert "distinct defaulting customers" in default and "at least 30 needed (min_positives" in default
    assert "payment-behaviour rules" in default and '"basis": "rules"' in default
    assert "onboarding rules" in headline["onboarding"]["skipped"]


@pytest.mark.parametrize("as_of", LATER)
def test_rescore_of_the_later_part_grades_by_the_rules(trained, tmp_path, as_of):
    ledger, uri, _ = trained
    out = tmp_path / "scores.csv"
    code, stdout = run_cli(
        "rescore", str(ledger), "--as-of", as_of, "--out", str(out), "--db", str(tmp_path / "results.db"),
        "--tracking-uri", uri,
    )  # fmt: skip
    assert code == 0, stdout
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["basis"] == "rules" and summary["model_version"] == "late_payment:1"
    assert "grades by the policy's payment-behaviour rules" in stdout
    scores = pd.read_csv(out).set_index("customer_id")
    assert len(scores) == summary["customers_scored"] > 30 and (scores["basis"] == "rules").all()
    assert scores["grade"].between(2, 10).all() and scores["grade"].nunique() >= 4
    kind = scores.index.map(profiles())
    assert scores.loc[kind == "prompt", "grade"].mean() < scores.loc[kind == "slow", "grade"].mean()
    assert (scores.loc[kind == "failing", "grade"] == 10).all()
    invoices = pd.read_csv(tmp_path / "scores_open_invoices.csv")
    assert len(invoices) and invoices["p_late"].between(0, 1).all()  # the late-payment model was trained


def test_the_service_starts_and_says_what_grades_customers(service):
    status = StatusResponse.model_validate(ok(httpx.get(f"{service.url}/status")))
    assert status.models == {"late_payment": "1"} and status.basis == {"score": "rules", "onboard": "rules"}
    assert "no champion of riskmodel-default" in service.log.read_text()


@pytest.mark.parametrize("as_of", LATER)
def test_every_customer_is_scored_by_the_rules_in_the_later_part(api, as_of):
    by_profile: dict[str, list[int]] = {}
    for customer_id, profile in profiles().items():
        response = api.post("/score", json={"customer_id": customer_id, "as_of": as_of})
        if response.status_code == 422:  # onboarded after as_of
            assert "onboarded on" in response.json()["error"]
            continue
        body = ScoreResponse.model_validate(ok(response))
        assert body.basis == "rules" and body.model_version == "late_payment:1" and body.notes
        assert 1 <= body.grade <= 10 and body.limit_rationale.text and body.reasons
        if not body.in_default:
            assert body.reasons[-1].rule == "base" and body.pd_12m < 1
        by_profile.setdefault(profile, []).append(body.grade)
    mean = {profile: sum(grades) / len(grades) for profile, grades in by_profile.items()}
    assert mean["prompt"] < mean["slow"] and mean["prompt"] < mean["erratic"] and mean["failing"] == 10


def test_batch_portfolio_invoices_and_onboarding_answer(api):
    batch = ScoreBatchResponse.model_validate(
        ok(api.post("/score_batch", json={"customer_ids": ["K001", "K002"]}))
    )
    assert [r.basis for r in batch.results] == ["rules", "rules"]
    portfolio = PortfolioResponse.model_validate(ok(api.post("/portfolio", json={"as_of": LATER[0]})))
    assert (
        portfolio.basis == "rules" and sum(g.n_customers for g in portfolio.grades) == portfolio.n_customers
    )
    customer = next(c for c in profiles() if ok(api.post("/score", json={"customer_id": c}))["open_invoices"])
    invoices = InvoiceRiskResponse.model_validate(
        ok(api.post("/invoice_risk", json={"customer_id": customer}))
    )
    assert invoices.invoices and all(0 <= i.p_late <= 1 for i in invoices.invoices) and invoices.notes == []
    onboard = OnboardResponse.model_validate(
        ok(api.post("/onboard", json={"country": "DE", "annual_revenue": 2e6}))
    )
    assert onboard.basis == "rules"


def test_the_console_shows_the_rules_basis_and_their_steps(service, api):
    from tests.service.test_service_console import SHOTS, chromium_path

    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium found (/usr/bin/chromium or on PATH); 'make test' installs it with apt-get")
    sync_api = pytest.importorskip("playwright.sync_api")
    expected = ok(api.post("/score", json={"customer_id": "K002"}))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1360, "height": 1000}, locale="en-US")
        page.goto(f"{service.url}/console/")
        page.fill("#key-input", service.key)
        page.click("#key-save")
        page.fill("#customer-id", "K002")
        page.click("#customer-submit")
        page.wait_for_selector("#customer-result:not([hidden])")
        assert page.get_attribute("#grade-basis", "data-value") == "rules"
        assert "payment-behaviour rules" in page.text_content("#grade-basis")
        assert page.is_hidden("#reasons-chart") and page.is_visible("#reasons-steps")
        steps = page.locator("#reasons-steps li").all_text_contents()
        assert steps == [r["description"] for r in expected["reasons"]]
        assert page.locator("#customer-notes li").all_text_contents() == expected["notes"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "customer-rules.png"), full_page=True)
        browser.close()


def test_serve_starts_with_one_champion_and_refuses_a_store_nobody_trained(trained, tmp_path, caplog):
    from riskmodel.exceptions import ModelNotFoundError
    from riskmodel.service.launch import check_ready
    from riskmodel.service.settings import ServiceSettings

    ledger, uri, _ = trained
    with caplog.at_level("WARNING", logger="riskmodel.service.launch"):
        check_ready(ServiceSettings(ledger=str(ledger), tracking_uri=uri, auth=False))
    assert "no champion of riskmodel-default: /score, /portfolio and rescore grade customers" in caplog.text
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(ModelNotFoundError, match="no riskmodel model has a version with alias 'champion'"):
        check_ready(ServiceSettings(ledger=str(ledger), tracking_uri=empty, auth=False))
