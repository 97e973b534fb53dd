"""Request handling: one method per endpoint, each answering with JSON and writing decisions to the audit trail.

:class:`~riskmodel.service.gate.RequestGate` checks each call (key, size, body schema) and
answers it with :meth:`RiskApi.answer`, which runs exactly one of these methods; domain
problems become 4xx answers here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from starlette.responses import Response

from riskmodel.exceptions import ModelNotFoundError
from riskmodel.service.errors import ApiError, EncodedBody, json_response
from riskmodel.service.keys import ANONYMOUS, KeyRing
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
from riskmodel.service.settings import ServiceSettings

if TYPE_CHECKING:  # the scorer brings the models' libraries: imported when the service starts, not before
    from riskmodel.service.scorer import RiskScorer

GUARDED_ROUTES: dict[str, type[BaseModel]] = {
    "/score": ScoreRequest,
    "/score_batch": ScoreBatchRequest,
    "/invoice_risk": InvoiceRiskRequest,
    "/onboard": OnboardRequest,
    "/portfolio": PortfolioRequest,
    "/cash_forecast": CashForecastRequest,
    "/ledger": LedgerPushRequest,
    "/ledger/refresh": LedgerRefreshRequest,
}
ROUTE_METHODS: dict[str, str] = {  # the RiskApi method answering each route
    "/score": "score",
    "/score_batch": "score_batch",
    "/invoice_risk": "invoice_risk",
    "/onboard": "onboard",
    "/portfolio": "portfolio",
    "/cash_forecast": "cash_forecast",
    "/ledger": "push_ledger",
    "/ledger/refresh": "refresh_ledger",
}
APPLICATION_FIELDS = tuple(
    name for name in OnboardRequest.model_fields if name not in ("requested_limit", "lang")
)


class RiskApi:
    """The endpoints of the scoring service over a :class:`RiskScorer`.

    Each method takes the validated body fields and the key id the request gate checked
    (``None``: no key was checked) and returns the response to send.
    """

    def __init__(self, scorer: RiskScorer, settings: ServiceSettings) -> None:
        self.scorer = scorer
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> RiskApi:
        """Load models, ledger and results database, and compute the comparison points of the data end."""
        from riskmodel.service.scorer import RiskScorer

        KeyRing.from_settings(settings)  # a malformed key stops the start, not every later request
        scorer = RiskScorer.from_settings(settings)
        scorer.comparison(scorer.data_end)
        return cls(scorer, settings)

    def answer(self, route: str, fields: Mapping[str, Any], key_id: str | None) -> Response:
        """The answer to a checked call of ``route`` (one of ``GUARDED_ROUTES``)."""
        method: Callable[[Mapping[str, Any], str | None], Response] = getattr(self, ROUTE_METHODS[route])
        return method(fields, key_id)

    def score(self, fields: Mapping[str, Any], key_id: str | None) -> Response:
        body = ScoreRequest.model_construct(**fields)
        if body.history is not None:
            return self._decide(
                "score",
                body,
                key_id,
                lambda: self.scorer.score_history(body.customer_id, body.history, body.as_of, body.lang),
                body.customer_id,
            )
        return self._decide(
            "score",
            body,
            key_id,
            lambda: self.scorer.score(body.customer_id, body.as_of, body.lang, improve=bool(body.improve)),
            body.customer_id,
        )

    def score_batch(self, fields: Mapping[str, Any], key_id: str | None) -> Response:
        body = ScoreBatchRequest.model_construct(**fields)
        return self._decide(
            "score_batch",
            body,
            key_id,
            lambda: self.scorer.score_batch(body.customer_ids, body.as_of, body.lang),
        )

    def invoice_risk(self, fields: Mapping[str, Any], key_id: str | None) -> Response:
        body = InvoiceRiskRequest.model_construct(**fields)
        return self._decide(
            "invoice_risk",
            body,
            key_id,
            lambda: self.scorer.invoice_risk(body.customer_id, body.invoice_ids, body.as_of, body.lang),
            body.customer_id,
        )

    def onboard(self, fields: Mapping[str, Any], key_id: str | None) -> Response:
        body = OnboardRequest.model_construct(**fields)
        application = {
            name: getattr(body, name) for name in APPLICATION_FIELDS if getattr(body, name) is not None
        }
        return self._decide(
            "onboard", body, key_id, lambda: self.scorer.onboard(application, body.requested_limit, body.lang)
        )

    def portfolio(self, fields: Mapping[str, Any], key_id: str | None) -> Response:
        body = PortfolioRequest.model_construct(**fields)
        try:
            self._caller(key_id)
            self.scorer.catch_up()
            with self.scorer.lock.reading():
                answer = self.scorer.portfolio(body.as_of, body.lang, body.top_alerts)
            return self._sent(json_response(answer))
        except ApiError as err:
            return self._sent(err.response())

    def cash_forecast(self, fields: Mapping[str, Any], key_id: str | None) -> Response:
        body = CashForecastRequest.model_construct(**fields)
        return self._decide(
            "cash_forecast",
            body,
            key_id,
            lambda: self.scorer.cash_forecast(body.customer_id, body.as_of, body.weeks, body.lang),
            body.customer_id,
        )

    def push_ledger(self, fields: Mapping[str, Any], key_id: str | None) -> Response:
        body = LedgerPushRequest.model_construct(**fields)
        batch = {
            name: [row.model_dump(mode="json", exclude_none=True) for row in rows]
            for name in LedgerPushRequest.model_fields
            if (rows := getattr(body, name)) is not None
        }
        return self._decide("ledger", body, key_id, lambda: self.scorer.push(batch), writes=True)

    def refresh_ledger(self, fields: Mapping[str, Any], key_id: str | None) -> Response:
        body = LedgerRefreshRequest.model_construct(**fields)
        return self._decide("ledger_refresh", body, key_id, self.scorer.refresh, writes=True)

    def status(self) -> dict[str, Any]:
        """What the service runs (models, policy, ledger) and whether calls need a key."""
        self.scorer.catch_up()  # the ledger as acknowledged, whichever worker took the push
        with self.scorer.lock.reading():
            return {**self.scorer.status(), "auth": self.settings.auth}

    @property
    def ready(self) -> threading.Event:
        """Set once the data end's work ahead is done (until then answers are slower, not wrong)."""
        return self.scorer.ready

    def close(self) -> None:
        """Stop the scorer's background work (the server is shutting down)."""
        self.scorer.close()

    # -- shared ----------------------------------------------------------------------------
    def _sent(self, response: Response) -> Response:
        """``response`` with the model versions in a header."""
        response.headers["X-Model-Version"] = self.scorer.bundle.model_version
        return response

    def _caller(self, key_id: str | None) -> str:
        """The key id the gate checked; refuses when keys are required and none was checked."""
        if key_id is None and self.settings.auth:
            raise ApiError(401, "this call was not authenticated; send 'Authorization: Bearer <key>'")
        return key_id or ANONYMOUS

    def _decide(
        self,
        endpoint: str,
        body: BaseModel,
        key_id: str | None,
        answer: Callable[[], dict[str, Any]],
        customer_id: str | None = None,
        writes: bool = False,
    ) -> Response:
        """Answer, then record the decision (caller, request, response, versions) in the audit trail.

        Answers read the served ledger under its read lock; one that ``writes`` it takes the
        write lock itself.
        """
        try:
            key_id = self._caller(key_id)
            if writes:
                response = answer()
            else:
                self.scorer.catch_up()
                with self.scorer.lock.reading():
                    response = answer()
        except ApiError as err:
            return self._sent(err.response())
        except ModelNotFoundError as err:
            return self._sent(ApiError(503, str(err)).response())
        encoded = response if isinstance(response, EncodedBody) else EncodedBody(response)
        self.scorer.results.record_decision(
            key_id=key_id,
            endpoint=endpoint,
            request=body.model_dump(mode="json"),
            response=encoded.encoded.decode("utf-8"),  # the bytes sent, as sent
            model_versions=self.scorer.bundle.versions,
            policy_version=self.scorer.bundle.policy.version,
            customer_id=customer_id,
        )
        return self._sent(json_response(encoded))
