"""Starting the service: the checks and files ``riskmodel serve`` needs, then ``bentoml serve`` in a child process."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlparse
from urllib.request import url2pathname

from riskmodel.exceptions import ModelNotFoundError, RiskModelError
from riskmodel.service.keys import KeyRing, create_key_file, read_key_file
from riskmodel.service.settings import ServiceSettings
from riskmodel.store import resolve_url

logger = logging.getLogger(__name__)

SERVICE = "serving.service:RiskService"
DEFAULT_WORKERS = 2  # one per core: a worker's Python runs on one core at a time
ENV_WORKERS = "RISKMODEL_WORKERS"  # the worker count, for the readiness of the whole server
TELEMETRY_OFF = {"BENTOML_DO_NOT_TRACK": "True", "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def installed_project() -> Path | None:
    """The project folder riskmodel was installed from in editable mode (PEP 610 ``direct_url.json``), else None."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        text = distribution("riskmodel").read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    origin = json.loads(text) if text else {}
    url = urlparse(origin.get("url", ""))
    if url.scheme != "file" or not origin.get("dir_info", {}).get("editable"):
        return None
    return Path(url2pathname(url.path))


def serving_root(*folders: Path | None) -> Path:
    """The first of ``folders`` that holds ``serving/service.py`` (the BentoML service class).

    The CLI passes ``--project-dir`` when given, else the current folder and the editable
    install's project (:func:`installed_project`).
    """
    candidates = [folder for folder in folders if folder is not None]
    for folder in candidates:
        if (folder / "serving" / "service.py").is_file():
            return folder
    looked = ", ".join(str(folder) for folder in candidates) or "no folder"
    raise RiskModelError(
        f"serving/service.py not found in {looked}; run 'riskmodel serve' from the riskmodel "
        "project folder, or pass it with --project-dir"
    )


def champions(tracking_uri: str | None) -> dict[str, bool]:
    """For each model of riskmodel (``default``, ``late_payment``, ``onboarding``), whether it has a ``champion``."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from riskmodel.models.specs import MODEL_SPECS

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    found = {}
    for name, spec in MODEL_SPECS.items():
        try:
            client.get_model_version_by_alias(spec.registered_name, "champion")
            found[name] = True
        except MlflowException:
            found[name] = False
    return found


def absolute_settings(settings: ServiceSettings, cwd: Path) -> ServiceSettings:
    """Relative folders, files and SQLite paths made absolute, so the server process finds them from anywhere."""
    ledger = settings.ledger if "://" in settings.ledger else str((cwd / settings.ledger).resolve())
    db_url = resolve_url(settings.db_url)
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        db_url = f"sqlite:///{(cwd / db_url.removeprefix('sqlite:///')).resolve()}"
    tracking = settings.tracking_uri
    if tracking and tracking.startswith("sqlite:///") and not tracking.startswith("sqlite:////"):
        tracking = f"sqlite:///{(cwd / tracking.removeprefix('sqlite:///')).resolve()}"
    return replace(
        settings,
        ledger=ledger,
        db_url=db_url,
        tracking_uri=tracking,
        key_file=(cwd / settings.key_file).resolve(),
    )


def check_ready(settings: ServiceSettings) -> None:
    """Refuse to start a service nobody trained (no champion at all) or that nobody may call (keys required, none set).

    A model that training skipped (too few positive cases) is named in a warning with what
    answers in its place (the policy's rules, or invoices without probabilities).
    """
    from riskmodel.models.specs import MODEL_SPECS

    found = champions(settings.tracking_uri)
    if not any(found.values()):
        raise ModelNotFoundError(
            f"no riskmodel model has a version with alias 'champion' in {settings.tracking_uri}; "
            "run 'riskmodel train LEDGER' first (or 'riskmodel serve --train-if-missing')"
        )
    for name, present in found.items():
        if not present:
            spec = MODEL_SPECS[name]
            logger.warning("no champion of %s: %s", spec.registered_name, spec.without_model)
    if not settings.auth:
        return
    try:
        keys = KeyRing.from_settings(settings)
    except ValueError as err:
        raise RiskModelError(str(err)) from None
    if not len(keys):
        raise RiskModelError(
            f"no API key: set RISKMODEL_API_KEYS, put a key in {settings.key_file} "
            "or pass --create-key (or --no-auth for a local experiment)"
        )


def ensure_key(settings: ServiceSettings) -> str | None:
    """Create the key file with a new random key when keys are required and none is configured; return the new key."""
    if not settings.auth or settings.api_keys or read_key_file(settings.key_file):
        return None
    return create_key_file(settings.key_file)


def usage(settings: ServiceSettings, host: str, port: int) -> str:
    """How to call the service, without printing any key."""
    base = f"http://{host}:{port}"
    key = "$RISKMODEL_KEY"
    lines = [f"riskmodel service on {base} (API docs {base}/, console {base}/console/)"]
    if settings.auth:
        source = "RISKMODEL_API_KEYS" if settings.api_keys else str(settings.key_file)
        lines.append(f"API keys from {source}; for example:")
        if not settings.api_keys:
            lines.append(f"  export RISKMODEL_KEY=$(grep -v '^#' {settings.key_file} | head -n 1)")
    else:
        lines.append(
            "API keys are switched off (RISKMODEL_AUTH=off): anyone who reaches the port can call it"
        )
    auth = f' -H "Authorization: Bearer {key}"' if settings.auth else ""
    lines.append(
        f"  curl -s{auth} -H 'Content-Type: application/json' -d '{{\"customer_id\": \"C000001\"}}' {base}/score"
    )
    return "\n".join(lines)


def serve_command(host: str, port: int, root: Path) -> list[str]:
    """``bentoml serve`` of the service, with a listening socket per worker (:mod:`riskmodel.service.server`)."""
    return [
        sys.executable,
        "-m",
        "riskmodel.service.server",
        "serve",
        SERVICE,
        "--host",
        host,
        "--port",
        str(port),
        "--working-dir",
        str(root),
    ]


def server_env(
    settings: ServiceSettings, base: Mapping[str, str], workers: int | None = None, access_log: bool = False
) -> dict[str, str]:
    """The environment of the server process: ``base`` plus the settings, telemetry off, the worker count
    (``RISKMODEL_WORKERS``), and the worker count and access log as BentoML options after any the caller
    set in ``BENTOML_CONFIG_OPTIONS``."""
    env = {**base, **settings.to_env(), **TELEMETRY_OFF, ENV_WORKERS: str(workers or DEFAULT_WORKERS)}
    options = [env.get("BENTOML_CONFIG_OPTIONS", "").strip()]
    if workers is not None:
        options.append(f"services.riskmodel.workers={workers}")
    if access_log:
        options.append("services.riskmodel.logging.access.enabled=true")
    if joined := " ".join(option for option in options if option):
        env["BENTOML_CONFIG_OPTIONS"] = joined
    return env


def check_port_free(host: str, port: int) -> None:
    """Refuse a port something listens on: the workers' sockets (SO_REUSEPORT) would otherwise share it with another server of ours."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # connections closing on it are no obstacle
        try:
            probe.bind((host, port))
        except OSError as err:
            raise RiskModelError(
                f"cannot serve on {host}:{port}: {err.strerror}; stop what listens there or pick another --port"
            ) from None


def run_service(
    settings: ServiceSettings,
    host: str,
    port: int,
    base_env: Mapping[str, str],
    root: Path,
    workers: int | None = None,
    access_log: bool = False,
) -> NoReturn:
    """Become ``bentoml serve`` run from ``root`` (the folder holding ``serving/``).

    The command's process is replaced by the server's (same pid), so whatever stops or
    kills it, Ctrl+C, SIGTERM or SIGKILL, reaches the server itself; no server is left
    behind holding the port.
    """
    check_port_free(host, port)
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(root)
    os.execve(
        sys.executable, serve_command(host, port, root), server_env(settings, base_env, workers, access_log)
    )


def stop_with_parent() -> None:
    """Have the kernel kill this process when its parent dies (Linux): a service worker never outlives its server.

    Without it, a server killed with SIGKILL leaves its workers answering on the port, and a
    restarted service cannot listen there.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    parent = os.getppid()
    set_parent_death_signal = 1  # PR_SET_PDEATHSIG
    ctypes.CDLL(None, use_errno=True).prctl(set_parent_death_signal, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the call
        os.kill(os.getpid(), signal.SIGKILL)


class ServerReadiness:
    """Whether every worker of the server has done its work ahead, so that any worker's ``/readyz`` speaks for all.

    A client sent on by ``/readyz`` meets whichever worker the kernel gives it: one still
    working ahead answers slowly and slows the other down. Each ready worker leaves a file
    named by its pid in ``folder``; the server is ready once ``workers`` live workers have.

    Parameters
    ----------
    folder
        Shared by the workers of one server (see :meth:`of_this_server`).
    workers
        How many workers the server runs.
    """

    def __init__(self, folder: Path, workers: int, pid: int | None = None) -> None:
        self.folder = folder
        self.workers = workers
        self.pid = os.getpid() if pid is None else pid
        self._all_ready = False

    @classmethod
    def of_this_server(cls, env: Mapping[str, str]) -> ServerReadiness:
        """The readiness of the server this worker belongs to (its parent process), with ``RISKMODEL_WORKERS`` workers (1 when unset)."""
        folder = Path(tempfile.gettempdir()) / f"riskmodel-ready-{os.getppid()}"
        return cls(folder, int(env.get(ENV_WORKERS) or 1))

    def mark_when(self, ready: threading.Event) -> None:
        """Leave this worker's file once ``ready`` is set (waits on a thread of its own)."""

        def mark() -> None:
            ready.wait()
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / str(self.pid)).touch()

        threading.Thread(target=mark, name="mark-ready", daemon=True).start()

    def ready(self) -> bool:
        """Whether ``workers`` live workers are ready (kept once true)."""
        if not self._all_ready:
            found = self.folder.iterdir() if self.folder.is_dir() else iter(())
            self._all_ready = sum(_alive(path.name) for path in found) >= self.workers
        return self._all_ready

    def close(self) -> None:
        """Take this worker's file away (it is stopping); the folder goes with the last one."""
        (self.folder / str(self.pid)).unlink(missing_ok=True)
        try:
            self.folder.rmdir()
        except OSError:  # other workers' files are still there, or it is gone already
            pass


def _alive(name: str) -> bool:
    if not name.isdigit():
        return False
    try:
        os.kill(int(name), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
