"""JSON bodies of the service: safe encoding of results, and 4xx errors that say what is wrong where."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from riskmodel.jsonable import to_jsonable

JSON_TYPE = "application/json"


class ApiError(Exception):
    """A request the service cannot answer: the HTTP status, what is wrong, and per-field problems.

    Parameters
    ----------
    status
        4xx (or 503 when a model is missing).
    error
        One sentence naming the problem and the fix.
    detail
        ``{"field": ..., "message": ...}`` items, ``field`` being a path like ``history.invoices[3].amount``.
    """

    def __init__(self, status: int, error: str, detail: Sequence[Mapping[str, str]] = ()) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = [dict(item) for item in detail]

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.detail}

    def response(self) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return json_response(self.body(), self.status, headers)


def json_bytes(body: Any) -> bytes:
    if isinstance(body, EncodedBody):
        return body.encoded
    return _encode(to_jsonable(body))


def _encode(plain: Any) -> bytes:
    return json.dumps(plain, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


class EncodedBody(dict[str, Any]):
    """A response body made plain JSON, with its encoding worked out once: a kept answer is sent many times.

    Treat it as read-only: ``encoded`` is not updated when the mapping changes.
    """

    def __init__(self, body: Mapping[str, Any]) -> None:
        super().__init__(to_jsonable(body))
        self.encoded = _encode(self)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response whose body is always valid JSON (see :func:`riskmodel.jsonable.to_jsonable`)."""
    return Response(json_bytes(body), status_code=status, media_type=JSON_TYPE, headers=dict(headers or {}))


def field_path(location: Iterable[str | int]) -> str:
    """``("history", "invoices", 3, "amount")`` as ``history.invoices[3].amount``."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def validation_error(err: ValidationError, what: str) -> ApiError:
    """A 422 listing each field pydantic rejected and why."""
    detail = [
        {"field": field_path(e["loc"]), "message": _message(e)}
        for e in err.errors(include_url=False, include_input=False)
    ]
    problems = "1 problem" if len(detail) == 1 else f"{len(detail)} problems"
    first = f"{detail[0]['field'] or 'body'}: {detail[0]['message']}" if detail else ""
    return ApiError(422, f"the request body is not a valid {what} ({problems}; first: {first})", detail)


def _message(error: Mapping[str, Any]) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        return "this field is required"
    if kind == "extra_forbidden":
        return "unknown field; check the spelling against the API documentation (/docs.json)"
    if kind == "json_invalid":
        return f"the body is not valid JSON ({error.get('ctx', {}).get('error', message)})"
    return message[0].lower() + message[1:] if message else kind
