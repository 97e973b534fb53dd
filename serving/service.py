"""BentoML service of riskmodel: champion models from the MLflow registry, scoring with SHAP reasons, audit trail, console.

Start it with ``riskmodel serve`` (or ``make serve``); settings come from environment
variables (see ``riskmodel.service.settings``). Each API makes one call into
``riskmodel.service.RiskApi``; the request gate in front checks the API key, the body size
and the body schema before any work is done.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import bentoml

from riskmodel.service import GUARDED_ROUTES, RequestGate, RiskApi, ServiceSettings, web_app
from riskmodel.service.launch import stop_with_parent
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

CONSOLE = Path(__file__).resolve().parent / "console"


def settings() -> ServiceSettings:
    """Service settings from the environment of the serving process."""
    return ServiceSettings.from_env(os.environ, console_dir=CONSOLE)


def status() -> dict[str, Any]:
    return bentoml.get_current_service().api.status()


@bentoml.asgi_app(web_app(CONSOLE, status), path="/")
@bentoml.service(
    name="riskmodel",
    workers=2,  # one per core: a worker's Python runs on one core at a time
    threads=4,
    traffic={"timeout": 120},
    logging={"access": {"enabled": False}},  # `riskmodel serve --access-log` turns it on
)
class RiskService:
    """Credit-risk scores of trade-credit customers with reasons, limits, alerts and onboarding decisions."""

    def __init__(self) -> None:
        stop_with_parent()  # a worker goes when its server goes, even after a SIGKILL
        self.api = RiskApi.from_settings(settings())

    def __is_ready__(self) -> bool:
        """``/readyz`` answers 200 once this worker has done the data end's work ahead (inputs, answers, invoice features)."""
        return self.api.is_ready()

    @bentoml.on_shutdown
    def close(self) -> None:
        self.api.close()

    @bentoml.api(route="/score", input_spec=ScoreRequest)
    def score(self, ctx: bentoml.Context, **request: Any) -> ScoreResponse:
        """PD, grade, recommended limit with rationale, alerts, SHAP reasons and open invoices of one customer."""
        return self.api.score(request, ctx)

    @bentoml.api(route="/score_batch", input_spec=ScoreBatchRequest)
    def score_batch(self, ctx: bentoml.Context, **request: Any) -> ScoreBatchResponse:
        """The /score answer for many customers of the served ledger as of one date."""
        return self.api.score_batch(request, ctx)

    @bentoml.api(route="/invoice_risk", input_spec=InvoiceRiskRequest)
    def invoice_risk(self, ctx: bentoml.Context, **request: Any) -> InvoiceRiskResponse:
        """P(paid more than 0/30/60/90 days late), expected payment date and reasons per invoice."""
        return self.api.invoice_risk(request, ctx)

    @bentoml.api(route="/onboard", input_spec=OnboardRequest)
    def onboard(self, ctx: bentoml.Context, **request: Any) -> OnboardResponse:
        """Decision on a credit application: approve, review, prepayment_or_guarantee or decline, with initial limit."""
        return self.api.onboard(request, ctx)

    @bentoml.api(route="/portfolio", input_spec=PortfolioRequest)
    def portfolio(self, ctx: bentoml.Context, **request: Any) -> PortfolioResponse:
        """Grade distribution, exposure by grade and the most severe alerts of the active portfolio."""
        return self.api.portfolio(request, ctx)

    @bentoml.api(route="/cash_forecast", input_spec=CashForecastRequest)
    def cash_forecast(self, ctx: bentoml.Context, **request: Any) -> CashForecastResponse:
        """Expected cash-in by week of the open invoices (portfolio or one customer), with an 80 % band."""
        return self.api.cash_forecast(request, ctx)

    @bentoml.api(route="/ledger", input_spec=LedgerPushRequest)
    def ledger(self, ctx: bentoml.Context, **request: Any) -> LedgerPushResponse:
        """Push new or changed ledger rows; checked whole, kept durably, seen by the next answer."""
        return self.api.push_ledger(request, ctx)

    @bentoml.api(route="/ledger/refresh", input_spec=LedgerRefreshRequest)
    def ledger_refresh(self, ctx: bentoml.Context, **request: Any) -> LedgerResponse:
        """Read the ledger again from its source, e.g. rows an ERP wrote into the ledger database."""
        return self.api.refresh_ledger(request, ctx)


RiskService.add_asgi_middleware(RequestGate, settings=settings, routes=GUARDED_ROUTES)
