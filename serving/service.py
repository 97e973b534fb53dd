"""BentoML service of riskmodel: champion models from the MLflow registry, scoring with SHAP reasons, audit trail, console.

Start it with ``riskmodel serve`` (or ``make serve``); settings come from environment
variables (see ``riskmodel.service.settings``). The request gate in front checks the API
key, the body size and the body schema before any work is done, then answers the call with
``riskmodel.service.RiskApi`` on its own threads (BentoML's per-call work cost more than a
kept ``/score`` answer). The APIs below declare the routes, their schemas and the OpenAPI
document, and answer the same way when called without the gate.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import bentoml
from starlette.responses import Response

from riskmodel.service import GUARDED_ROUTES, RequestGate, RiskApi, ServiceSettings, web_app
from riskmodel.service.launch import DEFAULT_WORKERS, ServerReadiness, stop_with_parent
from riskmodel.service.responses import (
    CashForecastResponse,
    InvoiceRiskResponse,
    LedgerPushResponse,
    LedgerResponse,
    OnboardResponse,
    PortfolioResponse,
    ScoreBatchResponse,
    ScoreResponse,
)
from riskmodel.service.schemas import (
    CashForecastRequest,
    InvoiceRiskRequest,
    LedgerPushRequest,
    LedgerRefreshRequest,
    OnboardRequest,
    PortfolioRequest,
    ScoreBatchRequest,
    ScoreRequest,
)
from riskmodel.service.timeout import use_in_bentoml

CONSOLE = Path(__file__).resolve().parent / "console"
THREADS = 4  # answering threads per worker
use_in_bentoml()  # the request timeout stops its timer once the answer has started


def settings() -> ServiceSettings:
    """Service settings from the environment of the serving process."""
    return ServiceSettings.from_env(os.environ, console_dir=CONSOLE)


def status() -> dict[str, Any]:
    return bentoml.get_current_service().api.status()


def answer(route: str, fields: dict[str, Any], key: str) -> Response:
    """The gate's answer to a checked call: the worker's RiskApi, as the API methods below would give it."""
    return bentoml.get_current_service().api.answer(route, fields, key)


def key_id(ctx: bentoml.Context) -> str | None:
    return getattr(ctx.request.state, "key_id", None)


def answered(ctx: bentoml.Context, response: Response) -> Response:
    ctx.response.status_code = response.status_code  # BentoML would otherwise answer 200
    return response


@bentoml.asgi_app(web_app(CONSOLE, status), path="/")
@bentoml.service(
    name="riskmodel",
    workers=DEFAULT_WORKERS,
    threads=THREADS,
    traffic={"timeout": 120},
    logging={"access": {"enabled": False}},  # `riskmodel serve --access-log` turns it on
    # No spans unless you export them: BentoML builds one per call even with no exporter (a
    # third of a worker's time per /score). With tracing.exporter_type set, set excluded_urls too.
    tracing={"excluded_urls": ".*"},
)
class RiskService:
    """Credit-risk scores of trade-credit customers with reasons, limits, alerts and onboarding decisions."""

    def __init__(self) -> None:
        stop_with_parent()  # a worker goes when its server goes, even after a SIGKILL
        logging.getLogger("riskmodel").setLevel(
            logging.getLogger("bentoml").level
        )  # our lines in the server log
        self.api = RiskApi.from_settings(settings())
        self.readiness = ServerReadiness.of_this_server(os.environ)
        self.readiness.mark_when(self.api.ready)

    def __is_ready__(self) -> bool:
        """``/readyz`` answers 200 once every worker has done the data end's work ahead (inputs, answers, invoice features)."""
        return self.api.ready.is_set() and self.readiness.ready()

    @bentoml.on_shutdown
    def close(self) -> None:
        self.readiness.close()
        self.api.close()

    @bentoml.api(route="/score", input_spec=ScoreRequest)
    def score(self, ctx: bentoml.Context, **request: Any) -> ScoreResponse:
        """PD, grade, recommended limit with rationale, alerts, SHAP reasons and open invoices of one customer."""
        return answered(ctx, self.api.score(request, key_id(ctx)))

    @bentoml.api(route="/score_batch", input_spec=ScoreBatchRequest)
    def score_batch(self, ctx: bentoml.Context, **request: Any) -> ScoreBatchResponse:
        """The /score answer for many customers of the served ledger as of one date."""
        return answered(ctx, self.api.score_batch(request, key_id(ctx)))

    @bentoml.api(route="/invoice_risk", input_spec=InvoiceRiskRequest)
    def invoice_risk(self, ctx: bentoml.Context, **request: Any) -> InvoiceRiskResponse:
        """P(paid more than 0/30/60/90 days late), expected payment date and reasons per invoice."""
        return answered(ctx, self.api.invoice_risk(request, key_id(ctx)))

    @bentoml.api(route="/onboard", input_spec=OnboardRequest)
    def onboard(self, ctx: bentoml.Context, **request: Any) -> OnboardResponse:
        """Decision on a credit application: approve, review, prepayment_or_guarantee or decline, with initial limit."""
        return answered(ctx, self.api.onboard(request, key_id(ctx)))

    @bentoml.api(route="/portfolio", input_spec=PortfolioRequest)
    def portfolio(self, ctx: bentoml.Context, **request: Any) -> PortfolioResponse:
        """Grade distribution, exposure by grade and the most severe alerts of the active portfolio."""
        return answered(ctx, self.api.portfolio(request, key_id(ctx)))

    @bentoml.api(route="/cash_forecast", input_spec=CashForecastRequest)
    def cash_forecast(self, ctx: bentoml.Context, **request: Any) -> CashForecastResponse:
        """Expected cash-in by week of the open invoices (portfolio or one customer), with an 80 % band."""
        return answered(ctx, self.api.cash_forecast(request, key_id(ctx)))

    @bentoml.api(route="/ledger", input_spec=LedgerPushRequest)
    def ledger(self, ctx: bentoml.Context, **request: Any) -> LedgerPushResponse:
        """Push new or changed ledger rows; checked whole, kept durably, seen by the next answer."""
        return answered(ctx, self.api.push_ledger(request, key_id(ctx)))

    @bentoml.api(route="/ledger/refresh", input_spec=LedgerRefreshRequest)
    def ledger_refresh(self, ctx: bentoml.Context, **request: Any) -> LedgerResponse:
        """Read the ledger again from its source, e.g. rows an ERP wrote into the ledger database."""
        return answered(ctx, self.api.refresh_ledger(request, key_id(ctx)))


RiskService.add_asgi_middleware(
    RequestGate, settings=settings, routes=GUARDED_ROUTES, answer=answer, threads=THREADS
)
