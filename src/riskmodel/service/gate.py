"""The door of every scoring call: API key, body size, media type and body schema, checked before any work.

An ASGI middleware, so that every refusal is a JSON body with the right status (401, 413,
415, 422) instead of the framework's own answers, and so that a refused request costs no
scoring time. Given an ``answer`` function, the gate answers accepted calls itself, on its
own threads: BentoML's per-call work (request and context objects, a second validation of
the body, its thread limiter) cost more than a kept ``/score`` answer. Without one, accepted
requests go on to the wrapped app with their body replayed and the caller's key id in
``scope["state"]["key_id"]``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ValidationError

from riskmodel.service.errors import ApiError, validation_error
from riskmodel.service.keys import ANONYMOUS, KeyRing
from riskmodel.service.settings import ServiceSettings

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
Answer = Callable[[str, dict[str, Any], str], Any]  # (route, body fields, key id) -> ASGI response


class RequestGate:
    """ASGI middleware guarding the POST routes named in ``routes``.

    Parameters
    ----------
    app
        The wrapped ASGI application.
    settings
        A callable giving the service settings; called once, at the first guarded request,
        so that keys are read in the serving process.
    routes
        Path of each guarded route and the pydantic model its body must match.
    answer
        Answers an accepted call from its route, body fields and key id, on one of
        ``threads`` threads; ``None`` passes accepted calls on to ``app``.
    """

    def __init__(
        self,
        app: Any,
        settings: Callable[[], ServiceSettings],
        routes: Mapping[str, type[BaseModel]],
        answer: Answer | None = None,
        threads: int = 4,
    ) -> None:
        self.app = app
        self._load_settings = settings
        self.routes = dict(routes)
        self.answer = answer
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="answer") if answer else None
        self._settings: ServiceSettings | None = None
        self._keys: KeyRing | None = None

    def _configure(self) -> tuple[ServiceSettings, KeyRing]:
        if self._settings is None or self._keys is None:
            settings = self._load_settings()
            keys = KeyRing.from_settings(settings)
            if settings.auth and not len(keys):
                logger.error("no API keys configured: every scoring call will be refused with 401")
            self._settings, self._keys = settings, keys
        return self._settings, self._keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        model = self.routes.get(scope.get("path", "")) if scope["type"] == "http" else None
        if model is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        try:
            key_id = self._authenticate(scope)
            body = await self._read_body(scope, receive)
            checked = _validate(model, body)
        except ApiError as err:
            await err.response()(scope, receive, send)
            return
        if self.answer is None:
            scope.setdefault("state", {})["key_id"] = key_id
            await self.app(scope, _replay(body, receive), send)
            return
        fields = {name: getattr(checked, name) for name in type(checked).model_fields}
        response = await asyncio.get_running_loop().run_in_executor(
            self._threads, self._answered, scope["path"], fields, key_id
        )
        await response(scope, receive, send)

    def _answered(self, route: str, fields: dict[str, Any], key_id: str) -> Any:
        assert self.answer is not None
        try:
            return self.answer(route, fields, key_id)
        except Exception:
            logger.exception("%s failed", route)
            return ApiError(500, "the service failed to answer this call; its log says why").response()

    def _authenticate(self, scope: Scope) -> str:
        settings, keys = self._configure()
        if not settings.auth:
            return ANONYMOUS
        key_id = keys.identify(_header(scope, b"authorization"))
        if key_id is None:
            raise ApiError(
                401,
                "missing or unknown API key; send the header 'Authorization: Bearer <key>' "
                "with a key from RISKMODEL_API_KEYS or the key file",
            )
        return key_id

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self._configure()[0].max_body_bytes
        media_type = (_header(scope, b"content-type") or "application/json").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise ApiError(415, f"send the body as application/json; got {media_type!r}")
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ApiError(400, "the client closed the connection before the body was complete")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _validate(model: type[BaseModel], body: bytes) -> BaseModel:
    if not body.strip():
        raise ApiError(
            422, f"the request body is empty; send a JSON object ({model.__name__}, see /docs.json)"
        )
    try:
        return model.model_validate_json(body)
    except ValidationError as err:
        raise validation_error(err, model.__name__) from None


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, f"the request body is larger than {limit:,} bytes; send fewer rows or customers per call"
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the already read body once, then waits on the real one (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
