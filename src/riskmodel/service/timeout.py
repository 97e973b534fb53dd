"""The request timeout of the BentoML service, with its timer stopped once the answer has started.

BentoML's own ``TimeoutMiddleware`` arms a timer per request and never cancels it: for
``traffic.timeout`` seconds (120 here) the timer keeps the request's context, waiter and
callback alive. At 500 requests a second that is 60,000 requests' leftovers at any time,
which the garbage collector's full passes walk (pauses of 100–300 ms measured under
``wrk``). :class:`AnswerTimeout` keeps BentoML's behaviour (504 when no answer has started
in time, no timeout once it has) and stops its timer as soon as either happens.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from riskmodel.service.errors import ApiError
from riskmodel.service.gate import Message, Receive, Scope, Send


class AnswerTimeout:
    """ASGI middleware: 504 when the wrapped app has not started its answer within ``timeout`` seconds.

    The app's work is cancelled at the timeout. Once an answer has started, the app runs to
    its end (a long streamed answer is not cut).
    """

    def __init__(self, app: Any, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        started: asyncio.Future[None] = loop.create_future()

        async def send_started(message: Message) -> None:
            if not started.done():
                started.set_result(None)
            await send(message)

        work = loop.create_task(self.app(scope, receive, send_started))
        expired: asyncio.Future[None] = loop.create_future()
        # An empty context: a timer left in the loop's queue holds nothing of the request.
        timer = loop.call_later(self.timeout, _settle, expired, context=contextvars.Context())
        try:
            await asyncio.wait({started, work, expired}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        if not (started.done() or work.done()):
            work.cancel()
            error = ApiError(
                504, f"no answer within {self.timeout:g} seconds; the request's work was stopped"
            )
            await error.response()(scope, receive, send)
            return
        await work


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def use_in_bentoml() -> None:
    """Make BentoML build :class:`AnswerTimeout` where it builds its own timeout middleware (call before the app is built)."""
    from bentoml._internal.server.http import traffic

    traffic.TimeoutMiddleware = AnswerTimeout  # type: ignore[misc]  # read by the app factory when it builds the app
