"""The service's own web routes beside the BentoML APIs: ``GET /status`` and the console's static files.

The console is plain HTML, JavaScript and CSS from one folder, served from the same origin
as the API with a strict Content-Security-Policy (nothing loads from elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from riskmodel.service.errors import json_response
from riskmodel.service.responses import StatusResponse

CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class ConsoleFiles(StaticFiles):
    """Static files with the console's security headers."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(CONSOLE_HEADERS)
        return response


def web_app(console_dir: Path | None, status: Callable[[], dict[str, Any]]) -> FastAPI:
    """Routes mounted on the BentoML service: ``GET /status`` and, when a folder is given, ``/console/``.

    Parameters
    ----------
    console_dir
        Folder holding ``index.html`` and its scripts and styles.
    status
        Called per request for the status body (the running service's versions).
    """
    app = FastAPI(title="riskmodel", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get(
        "/status",
        response_model=StatusResponse,
        tags=["Service APIs"],
        summary="Models, policy and ledger served",
    )
    def get_status() -> Response:
        """Champion model versions, policy version, the ledger served, and whether calls need an API key."""
        return json_response(status())

    if console_dir is not None:

        @app.get("/console", include_in_schema=False)
        def console_root() -> RedirectResponse:
            return RedirectResponse("/console/")

        app.mount("/console", ConsoleFiles(directory=console_dir, html=True), name="console")
    return app
