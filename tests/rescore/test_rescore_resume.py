"""Nothing lost, nothing doubled: a ``riskmodel rescore`` killed with SIGKILL mid-run resumes and completes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from riskmodel.cli import main
from riskmodel.exceptions import RescoreError
from riskmodel.rescore import rescore_portfolio
from riskmodel.store import ResultsStore
from tests.conftest import REPO, SAMPLE

pytestmark = pytest.mark.slow
AS_OF = date(2025, 12, 31)
CHUNK_SIZE = 10
START_TIMEOUT_S = 600  # imports and model loading are slow on a busy 2-core machine


def _committed_chunks(db: Path) -> int:
    if not db.exists():
        return 0
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as con:
            return con.execute(sa.text("SELECT count(*) FROM score_run_chunks")).scalar_one()
    except sa.exc.OperationalError:  # tables not created yet
        return 0
    finally:
        engine.dispose()


def _kill_after_first_chunk(args: list[str], db: Path, log: Path) -> None:
    env = {
        **os.environ,
        "BENTOML_DO_NOT_TRACK": "True",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "riskmodel.cli", *args], cwd=REPO, env=env, stdout=err, stderr=err
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while _committed_chunks(db) == 0:
            assert process.poll() is None, (
                f"rescore ended before committing a chunk: {log.read_text()[-2000:]}"
            )
            assert time.monotonic() < deadline, "no chunk committed in time"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def test_a_killed_run_resumes_and_ends_with_one_score_per_customer(
    sample_models, bundle, sample_ledger, tmp_path, caplog
):
    db = tmp_path / "killed.db"
    args = ["rescore", str(SAMPLE), "--as-of", AS_OF.isoformat(), "--db", str(db),
            "--tracking-uri", sample_models, "--chunk-size", str(CHUNK_SIZE)]  # fmt: skip
    _kill_after_first_chunk(["-q", *args], db, tmp_path / "killed.log")

    store = ResultsStore(db)
    run = store.run(_only_run(store))
    committed_before = _committed_chunks(db)
    assert run["status"] == "running" and 0 < committed_before < run["n_chunks"], (
        "the kill must land mid-run to test resuming"
    )

    with caplog.at_level(logging.INFO, logger="riskmodel.rescore"):
        assert main(["-q", *args]) == 0
    assert f"{committed_before} of {run['n_chunks']} chunks already committed" in caplog.text

    resumed = store.scores_for(AS_OF, bundle.model_version)
    assert store.run(run["run_id"])["status"] == "done"
    assert _committed_chunks(db) == run["n_chunks"]
    assert len(resumed) == run["n_customers"] and resumed["customer_id"].is_unique

    clean_store = ResultsStore(tmp_path / "clean.db")
    rescore_portfolio(sample_ledger, bundle, AS_OF, clean_store, chunk_size=CHUNK_SIZE)
    clean = clean_store.scores_for(AS_OF, bundle.model_version)
    columns = [
        "customer_id",
        "pd_12m",
        "grade",
        "current_limit",
        "recommended_limit",
        "limit_rationale",
        "reasons",
    ]
    pd.testing.assert_frame_equal(
        resumed.sort_values("customer_id")[columns].reset_index(drop=True),
        clean.sort_values("customer_id")[columns].reset_index(drop=True),
    )
    identity = ["customer_id", "alert_type", "key", "status", "opened_as_of"]
    assert _alert_set(store, identity) == _alert_set(clean_store, identity)
    store.close()
    clean_store.close()


def _only_run(store: ResultsStore) -> str:
    with store.engine.connect() as con:
        return con.execute(sa.text("SELECT run_id FROM score_runs")).scalar_one()


def _alert_set(store: ResultsStore, columns: list[str]) -> list[tuple]:
    with store.engine.connect() as con:
        frame = pd.read_sql(sa.text("SELECT * FROM alerts"), con)
    return sorted(frame[columns].astype(str).itertuples(index=False, name=None))


def test_an_unfinished_run_of_other_customers_is_not_resumed(bundle, sample_ledger, tmp_path):
    store = ResultsStore(tmp_path / "results.db")
    source = "elsewhere (active customers sha256:0123456789abcdef)"
    store.start_run(
        AS_OF, bundle.model_version, bundle.policy.version, "local", source, n_customers=3, n_chunks=1
    )
    with pytest.raises(RescoreError, match="was started on other active customers .* the ledger changed"):
        rescore_portfolio(sample_ledger, bundle, AS_OF, store)
    assert store.scores_for(AS_OF).empty
    store.close()
