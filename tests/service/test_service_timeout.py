"""The service's request timeout: 504 when no answer starts in time, and nothing of a request kept after it."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import importlib.util
import json
import weakref

import pytest
from bentoml._internal.server.base_app import BaseAppFactory
from bentoml._internal.server.http import traffic

from riskmodel.service.timeout import AnswerTimeout, use_in_bentoml


def _bentoml_own_timeout() -> type:
    """BentoML's timeout middleware as it ships (importing the service module replaces it)."""
    spec = importlib.util.find_spec(traffic.__name__)
    assert spec is not None and spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    return fresh.TimeoutMiddleware


BENTOML_TIMEOUT = _bentoml_own_timeout()
SCOPE = {"type": "http", "method": "POST", "path": "/score", "headers": []}
REQUEST_STATE: contextvars.ContextVar[object] = contextvars.ContextVar("request_state")


class Payload:
    """Something a request holds in its context (a span, a request object)."""


def answering(delay_before: float, delay_after: float = 0.0):
    """An ASGI app that starts its answer after ``delay_before`` s and ends it ``delay_after`` s later."""

    async def app(scope, receive, send):
        await asyncio.sleep(delay_before)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(delay_after)
        await send({"type": "http.response.body", "body": b"{}", "more_body": False})

    return app


async def _call(app) -> list[dict]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(dict(SCOPE), receive, send)
    return sent


def test_an_answer_in_time_passes_through():
    sent = asyncio.run(_call(AnswerTimeout(answering(0.0), timeout=5)))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200


def test_no_answer_in_time_gives_504_and_stops_the_work():
    finished = []

    async def slow(scope, receive, send):
        await asyncio.sleep(2)
        finished.append(True)

    async def run():
        sent = await _call(AnswerTimeout(slow, timeout=0.05))
        await asyncio.sleep(0.1)  # a work that went on would be running still
        return sent

    sent = asyncio.run(run())
    assert sent[0]["status"] == 504
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert "0.05 seconds" in body["error"]
    assert finished == []


def test_an_answer_that_has_started_is_not_cut():
    sent = asyncio.run(_call(AnswerTimeout(answering(0.0, delay_after=0.15), timeout=0.05)))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200


def test_errors_of_the_app_reach_the_caller():
    async def broken(scope, receive, send):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(_call(AnswerTimeout(broken, timeout=5)))


@pytest.mark.parametrize("middleware", [AnswerTimeout, BENTOML_TIMEOUT])
def test_nothing_of_a_request_outlives_its_answer(middleware):
    """BentoML's own timeout keeps each request's context alive until its timer fires; ours lets it go."""

    async def one_request() -> weakref.ref:
        payload = Payload()

        async def request() -> None:
            REQUEST_STATE.set(payload)
            await _call(middleware(answering(0.0), timeout=60))

        await asyncio.create_task(request(), context=contextvars.Context())
        return weakref.ref(payload)

    async def run() -> bool:
        left = await one_request()
        for _ in range(3):  # let the loop run the callbacks the request left behind
            await asyncio.sleep(0)
        gc.collect()
        return left() is not None

    kept = asyncio.run(run())
    assert kept is (middleware is BENTOML_TIMEOUT)


def test_bentoml_builds_the_answer_timeout(monkeypatch):
    monkeypatch.setattr(traffic, "TimeoutMiddleware", BENTOML_TIMEOUT)  # as shipped; restored after the test

    class Factory(BaseAppFactory):
        name = "probe"

    use_in_bentoml()
    middlewares = Factory(timeout=30).middlewares
    assert [(m.cls, m.kwargs) for m in middlewares] == [(AnswerTimeout, {"timeout": 30})]
