"""The served ledger is live: POST /ledger and `riskmodel push`, seen by the next answer, kept across kill -9.

A service of its own, on a copy of the sample ledger (pushes write a journal next to it).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, SAMPLE
from tests.service.conftest import RunningService, running_service

CUSTOMER = "C000069"


@pytest.fixture(scope="module")
def ledger_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("live") / "ledger"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("pushed_rows.sqlite"))
    return target


@pytest.fixture(scope="module")
def live(
    ledger_copy: Path, sample_models: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    with running_service(ledger_copy, sample_models, tmp_path_factory.mktemp("live-service")) as running:
        yield running


def _day(client, n: int) -> str:
    end = date.fromisoformat(client.get("/status").json()["ledger"]["data_end"])
    return (end + timedelta(days=n)).isoformat()


def _open_ids(client, customer_id: str = CUSTOMER, as_of: str | None = None) -> list[str]:
    body = {"customer_id": customer_id} | ({"as_of": as_of} if as_of else {})
    answer = client.post("/score", json=body)
    assert answer.status_code == 200, answer.text
    return [invoice["invoice_id"] for invoice in answer.json()["open_invoices"]]


def test_a_pushed_invoice_and_its_payment_show_in_the_next_answers(live: RunningService):
    with live.client() as client:
        issued = _day(client, 1)
        invoice = {
            "invoice_id": "LIVE-1",
            "customer_id": CUSTOMER,
            "issue_date": issued,
            "due_date": _day(client, 31),
            "amount": 5000.0,
        }
        pushed = client.post("/ledger", json={"invoices": [invoice]})
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["added"]["invoices"] == 1 and pushed.json()["data_end"] == issued
        assert client.get("/status").json()["ledger"]["data_end"] == issued
        assert "LIVE-1" in _open_ids(client)
        risk = client.post("/invoice_risk", json={"invoice_ids": ["LIVE-1"]})
        assert risk.status_code == 200 and 0 <= risk.json()["invoices"][0]["p_late"] <= 1
        payment = {
            "payment_id": "LIVE-P1",
            "invoice_id": "LIVE-1",
            "payment_date": _day(client, 1),
            "amount": 5000.0,
        }
        for _ in range(2):  # the second time is a re-delivery: nothing changes
            answer = client.post("/ledger", json={"payments": [payment]})
            assert answer.status_code == 200, answer.text
        assert answer.json()["unchanged"]["payments"] == 1 and answer.json()["added"]["payments"] == 0
        assert "LIVE-1" not in _open_ids(client)


def test_a_batch_with_a_bad_row_is_refused_whole_naming_the_row(live: RunningService):
    with live.client() as client:
        before = client.get("/status").json()["ledger"]
        good = {
            "invoice_id": "LIVE-2",
            "customer_id": CUSTOMER,
            "issue_date": _day(client, 0),
            "due_date": _day(client, 30),
            "amount": 700,
        }
        bad = {**good, "invoice_id": "LIVE-3", "due_date": _day(client, -40)}
        refused = client.post("/ledger", json={"invoices": [good, bad]})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["field"] == "invoices[1].due_date"
        conflict = client.post(
            "/ledger", json={"invoices": [{**good, "invoice_id": "LIVE-1", "amount": 1.0}]}
        )
        assert conflict.status_code == 409 and "amount" in conflict.json()["error"]
        assert client.get("/status").json()["ledger"] == before
        assert "LIVE-2" not in _open_ids(client)


def test_riskmodel_push_sends_a_folder_in_batches(live: RunningService, tmp_path: Path):
    with live.client() as client:
        day, due = _day(client, 1), _day(client, 31)
    folder = tmp_path / "export"
    folder.mkdir()
    lines = ["invoice_id,customer_id,issue_date,due_date,amount"]
    lines += [f"PUSH-{i},{CUSTOMER},{day},{due},{100 + i}" for i in range(5)]
    (folder / "invoices.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "riskmodel.cli",
        "push",
        str(folder),
        "--url",
        live.url,
        "--key",
        live.key,
        "--batch-rows",
        "2",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKMODEL_")}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert '"added": 5' in done.stdout and '"batches": 3' in done.stdout
    with live.client() as client:
        assert {f"PUSH-{i}" for i in range(5)} <= set(_open_ids(client))
    (folder / "invoices.csv").write_text(
        lines[0] + f"\nPUSH-9,{CUSTOMER},{day},2000-01-01,5\n", encoding="utf-8"
    )
    refused = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "invoices.csv row 2, due_date" in refused.stderr


def test_rows_written_into_the_source_are_read_on_refresh(live: RunningService, ledger_copy: Path):
    with live.client() as client:
        before = client.get("/status").json()["ledger"]
        issued, due = _day(client, 0), _day(client, 30)
        with (ledger_copy / "invoices.csv").open("a", encoding="utf-8") as out:  # what an ERP export job does
            out.write(f"ERP-1,{CUSTOMER},{issued},{due},321.5,,,\n")
        assert "ERP-1" not in _open_ids(client)
        refreshed = client.post("/ledger/refresh", json={})
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["ledger"]["invoices"] == before["invoices"] + 1
        assert "ERP-1" in _open_ids(client)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["valid", "invalid"])
def test_no_generated_push_makes_a_server_error(live: RunningService, mode: str):
    from schemathesis import GenerationMode

    from tests.service.test_service_openapi import assert_no_server_error, ledger_operations

    operations = ledger_operations(live.url, paths=("/ledger", "/ledger/refresh"))
    assert {op.path for op in operations} == {"/ledger", "/ledger/refresh"}
    generation = GenerationMode.POSITIVE if mode == "valid" else GenerationMode.NEGATIVE
    # A valid refresh has an empty body: a few calls say what 25 would (each reads the ledger again).
    assert_no_server_error(operations, live.key, generation, examples={"/ledger/refresh": 3})


def test_pushed_rows_survive_kill_9(
    live: RunningService, ledger_copy: Path, sample_models: str, tmp_path: Path
):
    with live.client() as client:
        day = min(_day(client, 1), date.today().isoformat())  # generated pushes may date rows today
        invoice = {
            "invoice_id": "LIVE-KILL",
            "customer_id": CUSTOMER,
            "issue_date": day,
            "due_date": _day(client, 31),
            "amount": 80.0,
        }
        assert client.post("/ledger", json={"invoices": [invoice]}).status_code == 200
        data_end = client.get("/status").json()["ledger"]["data_end"]
    os.kill(
        live.pid, signal.SIGKILL
    )  # the server only, no shutdown: only what was committed before the answer remains
    assert _stops_answering(live.url), "a worker outlived its killed server and still holds the port"
    with running_service(ledger_copy, sample_models, tmp_path) as again, again.client() as client:
        assert client.get("/status").json()["ledger"]["data_end"] == data_end
        assert "LIVE-KILL" in _open_ids(client, as_of=day)


def _stops_answering(url: str, within_s: float = 15.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/readyz", timeout=1)
        except httpx.HTTPError:
            return True
        time.sleep(0.2)
    return False
