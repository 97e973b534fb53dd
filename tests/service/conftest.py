"""One real scoring service per test session: ``riskmodel serve`` on a free port with throwaway models, database and key.

Started the first time a test asks for it, stopped at the end of the session; every
service test talks to it over HTTP.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, SAMPLE

READY_TIMEOUT_S = 300  # cold start imports MLflow, LightGBM and SHAP; slow on a busy 2-core machine
API_KEY = "test-key-0123456789abcdef"


@dataclass(frozen=True)
class RunningService:
    url: str
    key: str
    db_url: str
    tracking_uri: str
    log: Path
    started_in_s: float
    pid: int  # the service's process group (its workers too)

    def client(self, key: str | None = None) -> httpx.Client:
        """An HTTP client sending ``key`` (the service's key by default; empty string: no header)."""
        key = self.key if key is None else key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the service was not ready within {READY_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    """Stop the service and its workers (they share the process group started for it)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@contextmanager
def running_service(ledger: Path, tracking_uri: str, root: Path) -> Iterator[RunningService]:
    """``riskmodel serve`` on a free port with ``ledger``, the champions at ``tracking_uri``, a fresh database and key in ``root``.

    Stopped (with its workers) when the block ends.
    """
    key_file = root / "api_keys"
    key_file.write_text(f"# test key\n{API_KEY}\n", encoding="utf-8")
    db_url = f"sqlite:///{root / 'riskmodel.db'}"
    log = root / "service.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKMODEL_")}
    command = [
        sys.executable, "-m", "riskmodel.cli", "serve", "--port", str(port), "--ledger", str(ledger),
        "--tracking-uri", tracking_uri, "--db", db_url, "--key-file", str(key_file),
    ]  # fmt: skip
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        yield RunningService(url, API_KEY, db_url, tracking_uri, log, time.monotonic() - started, process.pid)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def service(sample_models: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """The running service: champions of ``sample_models``, the ledger ``data/sample``, a fresh database and key."""
    with running_service(SAMPLE, sample_models, tmp_path_factory.mktemp("service")) as running:
        yield running


@pytest.fixture(scope="session")
def api(service: RunningService) -> Iterator[httpx.Client]:
    """A client of the running service that sends the valid key."""
    with service.client() as client:
        yield client
