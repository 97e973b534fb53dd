"""The service's parts without a server: keys, settings, the request gate, JSON bodies, inline histories, launch."""

from __future__ import annotations

import json
import math
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from riskmodel.exceptions import RiskModelError
from riskmodel.service.errors import ApiError, field_path, json_bytes
from riskmodel.service.gate import RequestGate
from riskmodel.service.history import history_ledger
from riskmodel.service.keys import KeyRing, create_key_file, key_id, read_key_file
from riskmodel.service.launch import (
    ServerReadiness,
    absolute_settings,
    check_port_free,
    ensure_key,
    installed_project,
    server_env,
    serving_root,
    usage,
)
from riskmodel.service.schemas import History, ScoreRequest
from riskmodel.service.settings import ServiceSettings

KEY = "unit-key-0123456789abcdef"


# -- keys ----------------------------------------------------------------------------------
def test_key_ring_knows_its_keys_by_id_only():
    ring = KeyRing([KEY])
    assert ring.identify(f"Bearer {KEY}") == key_id(KEY) != KEY
    assert ring.identify(f"bearer   {KEY} ") == key_id(KEY)
    assert ring.identify("Bearer other-key-0123456789") is None
    assert ring.identify(KEY) is None and ring.identify(None) is None and ring.identify("Basic abc") is None


def test_short_keys_are_refused():
    with pytest.raises(ValueError, match="at least 16 characters"):
        KeyRing(["short"])


def test_created_key_file_is_private_and_readable_back(tmp_path):
    path = tmp_path / "keys" / "api_keys"
    key = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(path) == (key,) and len(key) >= 32
    with pytest.raises(FileExistsError):
        create_key_file(path)


def test_key_file_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "api_keys"
    path.write_text(f"# team A\n\n{KEY}  # rotated 2026-01\nsecond-key-0123456789\n", encoding="utf-8")
    assert read_key_file(path) == (KEY, "second-key-0123456789")
    assert read_key_file(tmp_path / "absent") == ()


# -- settings ------------------------------------------------------------------------------
def test_settings_round_trip_through_the_environment(tmp_path):
    settings = ServiceSettings(
        ledger="postgresql://u@h/db", tracking_uri="sqlite:///m.db", db_url="sqlite:///r.db",
        api_keys=(KEY,), key_file=tmp_path / "k", auth=False, max_body_bytes=4096, console_dir=tmp_path,
    )  # fmt: skip
    assert ServiceSettings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize(
    ("env", "message"),
    [({"RISKMODEL_AUTH": "maybe"}, "'on' or 'off'"), ({"RISKMODEL_MAX_BODY_BYTES": "1MB"}, "whole number")],
    ids=["auth", "body-size"],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(ValueError, match=message):
        ServiceSettings.from_env(env)


# -- JSON bodies -----------------------------------------------------------------------------
def test_bodies_are_always_valid_json():
    body = json.loads(json_bytes({"pd": math.nan, "limit": math.inf, "n": [1.5, None]}))
    assert body == {"pd": None, "limit": None, "n": [1.5, None]}


def test_field_paths_read_like_code():
    assert field_path(("history", "invoices", 3, "amount")) == "history.invoices[3].amount"
    assert field_path(()) == ""


# -- the request gate ------------------------------------------------------------------------
async def _echo(request: Request) -> JSONResponse:
    return JSONResponse({"key_id": request.state.key_id, "body": json.loads(await request.body())})


@pytest.fixture
def gated():
    settings = ServiceSettings(api_keys=(KEY,), key_file=Path("/nonexistent"), max_body_bytes=2048)
    app = Starlette(routes=[Route("/score", _echo, methods=["POST"])])
    return TestClient(RequestGate(app, settings=lambda: settings, routes={"/score": ScoreRequest}))


def test_gate_passes_a_valid_call_with_its_key_id(gated):
    response = gated.post("/score", json={"customer_id": "C1"}, headers={"Authorization": f"Bearer {KEY}"})
    assert response.json() == {"key_id": key_id(KEY), "body": {"customer_id": "C1"}}


@pytest.mark.parametrize(
    ("key", "media_type", "content", "status", "says"),
    [
        (None, "application/json", b'{"customer_id": "C1"}', 401, "Authorization: Bearer"),
        ("nope-0123456789abcdef", "application/json", b'{"customer_id": "C1"}', 401, "unknown API key"),
        (KEY, "text/csv", b"customer_id\nC1", 415, "application/json"),
        (KEY, "application/json", b'{"customer_id": "' + b"x" * 4096 + b'"}', 413, "larger than 2,048 bytes"),
        (KEY, "application/json", b"", 422, "empty"),
        (KEY, "application/json", b'{"customer_id": "C1", "as_of": "31/12/2025"}', 422, "as_of"),
    ],
    ids=["no-key", "unknown-key", "media-type", "too-large", "empty", "bad-date"],
)
def test_gate_refuses_with_a_json_reason(gated, key, media_type, content, status, says):
    headers = {"Content-Type": media_type} | ({"Authorization": f"Bearer {key}"} if key else {})
    response = gated.post("/score", content=content, headers=headers)
    assert response.status_code == status
    assert says in response.json()["error"]


def test_gate_leaves_other_routes_alone(gated):
    assert gated.get("/elsewhere").status_code == 404


def _answering_gate(answer) -> TestClient:
    settings = ServiceSettings(api_keys=(KEY,), key_file=Path("/nonexistent"), max_body_bytes=2048)
    app = Starlette(routes=[Route("/score", _echo, methods=["POST"])])
    return TestClient(
        RequestGate(app, settings=lambda: settings, routes={"/score": ScoreRequest}, answer=answer)
    )


def test_gate_answers_a_checked_call_itself():
    calls = []

    def answer(route, fields, key):
        calls.append((route, fields["customer_id"], fields["as_of"], key))
        return JSONResponse({"answered": "by the gate"}, status_code=201)

    response = _answering_gate(answer).post(
        "/score",
        json={"customer_id": "C1", "as_of": "2025-06-30"},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert (response.status_code, response.json()) == (201, {"answered": "by the gate"})
    assert calls == [("/score", "C1", date(2025, 6, 30), key_id(KEY))]  # fields as validated, not as sent


def test_gate_refuses_before_answering():
    def answer(route, fields, key):
        raise AssertionError("a refused call must not be answered")

    assert _answering_gate(answer).post("/score", json={"customer_id": "C1"}).status_code == 401


def test_a_failing_answer_is_a_json_500(caplog):
    def answer(route, fields, key):
        raise RuntimeError("disk on fire")

    response = _answering_gate(answer).post(
        "/score", json={"customer_id": "C1"}, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 500
    assert "log says why" in response.json()["error"]
    assert "disk on fire" in caplog.text


# -- inline histories ------------------------------------------------------------------------
def test_history_rows_breaking_ledger_rules_are_named():
    history = History.model_validate(
        {
            "customers": [{"customer_id": "W1", "onboarding_date": "2024-01-01"}],
            "invoices": [
                {
                    "invoice_id": "A",
                    "customer_id": "W1",
                    "issue_date": "2024-02-01",
                    "due_date": "2024-03-01",
                    "amount": 10,
                },
                {
                    "invoice_id": "B",
                    "customer_id": "W1",
                    "issue_date": "2024-02-01",
                    "due_date": "2024-01-01",
                    "amount": 10,
                },
            ],
        }
    )
    with pytest.raises(ApiError) as caught:
        history_ledger(history)
    assert caught.value.status == 422
    assert caught.value.detail == [
        {
            "field": "history.invoices[1].due_date",
            "message": "due_date 2024-01-01 is before issue_date 2024-02-01; fix the dates or drop the row",
        }
    ]


def test_valid_history_becomes_a_ledger():
    history = History.model_validate({"customers": [{"customer_id": "W1", "onboarding_date": "2024-01-01"}]})
    ledger = history_ledger(history)
    assert ledger.customers.num_rows == 1 and ledger.invoices.num_rows == 0


# -- launching -------------------------------------------------------------------------------
def test_relative_paths_become_absolute(tmp_path):
    settings = absolute_settings(
        ServiceSettings(db_url="riskmodel.db", tracking_uri="sqlite:///mlflow.db"), tmp_path
    )
    assert settings.ledger == str(tmp_path / "data" / "sample")
    assert settings.db_url == f"sqlite:///{tmp_path / 'riskmodel.db'}"
    assert settings.tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert settings.key_file == tmp_path / ".riskmodel" / "api_keys"


def test_a_key_is_created_only_when_none_is_configured(tmp_path):
    settings = ServiceSettings(key_file=tmp_path / "api_keys")
    key = ensure_key(settings)
    assert key and read_key_file(settings.key_file) == (key,)
    assert ensure_key(settings) is None
    assert ensure_key(ServiceSettings(key_file=tmp_path / "other", api_keys=(KEY,))) is None
    assert ensure_key(ServiceSettings(key_file=tmp_path / "other", auth=False)) is None


def test_usage_never_prints_a_key(tmp_path):
    settings = ServiceSettings(api_keys=(KEY,), key_file=tmp_path / "k")
    text = usage(settings, "127.0.0.1", 3000)
    assert KEY not in text and "Authorization: Bearer $RISKMODEL_KEY" in text


def test_server_environment_carries_settings_and_switches_telemetry_off():
    env = server_env(ServiceSettings(ledger="/data/x"), {"PATH": "/bin"}, workers=2)
    assert env["RISKMODEL_LEDGER"] == "/data/x" and env["PATH"] == "/bin"
    assert env["BENTOML_DO_NOT_TRACK"] == "True" and env["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert env["BENTOML_CONFIG_OPTIONS"] == "services.riskmodel.workers=2"
    assert env["RISKMODEL_WORKERS"] == "2" and server_env(ServiceSettings(), {})["RISKMODEL_WORKERS"] == "2"


def test_server_options_follow_the_callers_own_bentoml_options():
    base = {"BENTOML_CONFIG_OPTIONS": "services.riskmodel.traffic.timeout=30"}
    env = server_env(ServiceSettings(ledger="/data/x"), base, workers=3, access_log=True)
    assert env["BENTOML_CONFIG_OPTIONS"].split() == [
        "services.riskmodel.traffic.timeout=30",
        "services.riskmodel.workers=3",
        "services.riskmodel.logging.access.enabled=true",
    ]
    assert "BENTOML_CONFIG_OPTIONS" not in server_env(ServiceSettings(ledger="/data/x"), {})


@pytest.mark.parametrize("reuse_port", [False, True], ids=["plain", "reuse-port"])
def test_a_port_something_listens_on_is_refused_before_serving(reuse_port):
    with socket.socket() as held:
        if reuse_port:  # another server of ours: its workers' sockets would share the port
            held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(RiskModelError, match=rf"127\.0\.0\.1:{port}: .*pick another --port"):
            check_port_free("127.0.0.1", port)
    check_port_free("127.0.0.1", port)  # free again


def test_the_server_is_ready_when_every_live_worker_is(tmp_path):
    folder = tmp_path / "ready"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        first = ServerReadiness(folder, workers=2)
        second = ServerReadiness(folder, workers=2, pid=sleeper.pid)  # another live process
        first_ready, second_ready = threading.Event(), threading.Event()
        first.mark_when(first_ready)
        second.mark_when(second_ready)
        first_ready.set()
        _wait_for(lambda: (folder / str(os.getpid())).exists())
        assert not first.ready()  # the other worker is still working ahead
        (folder / "4194999").touch()  # a worker that died ready (no such pid) does not count
        assert not first.ready()
        second_ready.set()
        _wait_for(lambda: (folder / str(sleeper.pid)).exists())
        assert first.ready() and second.ready()
        first.close()
        assert not (folder / str(os.getpid())).exists() and first.ready()  # kept once true
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_worker_of_a_server_started_without_a_count_answers_for_itself(tmp_path):
    readiness = ServerReadiness.of_this_server({})
    assert readiness.workers == 1 and readiness.folder.name == f"riskmodel-ready-{os.getppid()}"
    assert ServerReadiness.of_this_server({"RISKMODEL_WORKERS": "3"}).workers == 3


def _wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within 5 s"
        time.sleep(0.01)


def test_the_service_folder_is_the_one_given_never_found_by_walking(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    assert serving_root(repo) == repo
    assert serving_root(tmp_path, None, repo) == repo  # the first folder that holds serving/
    with pytest.raises(RiskModelError, match=r"serving/service.py not found in .*; .*--project-dir"):
        serving_root(tmp_path)


def test_the_editable_install_names_its_project_folder():
    # make install runs 'pip install -e .' from this checkout: its PEP 610 record names it
    assert installed_project() == Path(__file__).resolve().parents[2]


def test_every_service_api_is_guarded():
    from riskmodel.service import GUARDED_ROUTES
    from serving.service import RiskService

    assert {api.route for api in RiskService.apis.values()} == set(GUARDED_ROUTES)
