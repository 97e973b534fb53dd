"""The results database on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from riskmodel.store import (
    MEMORY_ALERT_COLUMNS,
    SCORE_COLUMNS,
    SLIM_SCORE_COLUMNS,
    ResultsStore,
    remembered_alert,
    resolve_url,
)
from tests.integration_helpers import fresh_postgres_database

AS_OF = date(2025, 6, 30)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[ResultsStore]:
    if request.param == "sqlite":
        results = ResultsStore(tmp_path / "results.db")
        yield results
        results.close()
        return
    with fresh_postgres_database() as url:
        results = ResultsStore(url)
        yield results
        results.close()


def _scores(run_id: str, customer_ids: list[str], pd_12m: float = 0.02) -> pd.DataFrame:
    frame = pd.DataFrame({"customer_id": customer_ids})
    frame["as_of"] = AS_OF
    frame["model_version"] = "default:1"
    frame["run_id"] = run_id
    frame["pd_12m"] = pd_12m
    frame["grade"] = 3
    frame["basis"] = "model"
    frame["current_limit"] = 10_000.0
    frame["recommended_limit"] = float("nan")
    frame["limit_rationale"] = json.dumps({"rule": "hold"})
    frame["reasons"] = "[]"
    frame["policy_version"] = "p1"
    return frame[list(SCORE_COLUMNS)]


def test_a_path_becomes_an_sqlite_url() -> None:
    assert resolve_url("out/results.db") == "sqlite:///out/results.db"
    assert resolve_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_a_run_resumes_with_its_committed_chunks_and_never_doubles_a_chunk(store: ResultsStore) -> None:
    run_id, done = store.start_run(AS_OF, "default:1", "p1", "local", "ledger", n_customers=4, n_chunks=2)
    assert done == set()
    assert store.commit_chunk(run_id, 0, _scores(run_id, ["C1", "C2"]))
    assert not store.commit_chunk(
        run_id, 0, _scores(run_id, ["C1", "C2"])
    )  # repeated chunk is refused, not doubled
    again, done = store.start_run(AS_OF, "default:1", "p1", "local", "ledger", n_customers=4, n_chunks=2)
    assert (again, done) == (run_id, {0})
    store.commit_chunk(run_id, 1, _scores(run_id, ["C3", "C4"]))
    store.finish_run(run_id)
    saved = store.scores_for(AS_OF, "default:1")
    assert sorted(saved["customer_id"]) == ["C1", "C2", "C3", "C4"]
    assert saved["recommended_limit"].isna().all()
    assert store.run(run_id)["status"] == "done"
    assert store.previous_run(date(2025, 7, 31))["run_id"] == run_id
    assert store.previous_run(AS_OF) is None


def test_a_failing_chunk_leaves_nothing_behind(store: ResultsStore) -> None:
    run_id, _ = store.start_run(AS_OF, "default:1", "p1", "local", "ledger", n_customers=2, n_chunks=1)
    broken = _scores(run_id, ["C1", "C1"])  # the same customer twice breaks the primary key
    with pytest.raises(sa.exc.IntegrityError):
        store.commit_chunk(
            run_id,
            0,
            broken,
            opened=[
                {
                    "customer_id": "C1",
                    "alert_type": "pd_high",
                    "key": "",
                    "severity": "warning",
                    "opened_as_of": AS_OF,
                }
            ],
        )
    assert store.scores_for(AS_OF).empty
    assert store.open_alerts().empty
    assert store.start_run(AS_OF, "default:1", "p1", "local", "ledger", 2, 1)[1] == set()


def test_alerts_open_and_close_by_identity(store: ResultsStore) -> None:
    run_id, _ = store.start_run(AS_OF, "default:1", "p1", "local", "ledger", n_customers=1, n_chunks=2)
    alert = {
        "customer_id": "C1",
        "alert_type": "invoice_past_due",
        "key": "INV-9:60",
        "severity": "severe",
        "facts": {"days_past_due": 61},
        "action": "stop supply",
        "opened_as_of": AS_OF,
        "opened_run_id": run_id,
    }
    store.commit_chunk(run_id, 0, _scores(run_id, ["C1"]), opened=[alert])
    open_now = store.open_alerts(["C1"])
    assert open_now[["alert_type", "key", "severity"]].to_dict("records") == [
        {"alert_type": "invoice_past_due", "key": "INV-9:60", "severity": "severe"}
    ]
    assert json.loads(open_now["facts"].iloc[0]) == {"days_past_due": 61}
    closed = {
        "customer_id": "C1",
        "alert_type": "invoice_past_due",
        "key": "INV-9:60",
        "closed_as_of": date(2025, 7, 31),
        "closed_run_id": run_id,
    }
    store.commit_chunk(run_id, 1, _scores(run_id, [])[:0], closed=[closed])
    assert store.open_alerts().empty
    assert len(store.alerts_opened_in(run_id)) == 1
    assert store.alerts_closed_in(run_id)["key"].tolist() == ["INV-9:60"]


def test_alerts_recorded_by_the_service_are_opened_once_per_identity(store: ResultsStore) -> None:
    def alert(customer: str, key: str) -> dict:
        return {
            "customer_id": customer,
            "alert_type": "pd_level",
            "key": key,
            "severity": "warning",
            "facts": {},
            "action": "review_credit",
            "opened_as_of": AS_OF,
            "opened_run_id": None,
        }

    store.record_alert_changes([alert("C1", "0.1"), alert("C2", "0.1")], [])
    store.record_alert_changes([alert("C1", "0.1"), alert("C1", "0.17"), alert("C3", "0.1")], [])
    history = store.alert_history()
    assert sorted(zip(history["customer_id"], history["key"], strict=True)) == [
        ("C1", "0.1"),
        ("C1", "0.17"),
        ("C2", "0.1"),
        ("C3", "0.1"),
    ]
    closed = {**alert("C1", "0.1"), "closed_as_of": date(2025, 7, 31), "closed_run_id": None}
    store.record_alert_changes([], [closed])
    store.record_alert_changes([alert("C1", "0.1")], [])  # raised again after it was resolved: a new alert
    assert sorted(store.open_alerts(["C1"])["key"]) == ["0.1", "0.17"]
    assert len(store.alert_history()) == 5


def test_a_run_and_its_scores_are_found_by_date_and_model(store: ResultsStore) -> None:
    assert store.find_run(AS_OF, "default:1") is None
    assert list(store.run_scores(None).columns) == list(SLIM_SCORE_COLUMNS)
    run_id, _ = store.start_run(AS_OF, "default:1", "p1", "local", "ledger", n_customers=2, n_chunks=1)
    store.commit_chunk(run_id, 0, _scores(run_id, ["C2", "C1"]))
    run = store.find_run(AS_OF, "default:1")
    assert run is not None and run["run_id"] == run_id
    slim = store.run_scores(run)
    assert slim["customer_id"].tolist() == ["C1", "C2"] and slim["recommended_limit"].isna().all()
    assert list(store.export_scores(AS_OF, "default:1").columns) == list(SCORE_COLUMNS)


def test_every_decision_lands_in_the_audit_trail(store: ResultsStore) -> None:
    first = store.record_decision(
        "key-1",
        "/score",
        {"customer_id": "C1"},
        {"pd_12m": 0.03, "grade": 4},
        {"default": "3"},
        "p1",
        customer_id="C1",
    )
    store.record_decision(
        "key-2", "/onboard", {"annual_revenue": 1e6}, {"decision": "review"}, {"onboarding": "1"}, "p1"
    )
    trail = store.decisions("C1")
    assert trail["audit_id"].tolist() == [first]
    row = trail.iloc[0]
    assert (row["key_id"], row["endpoint"], row["policy_version"]) == ("key-1", "/score", "p1")
    assert json.loads(row["response"]) == {"grade": 4, "pd_12m": 0.03}
    assert json.loads(row["model_versions"]) == {"default": "3"}
    assert len(store.decisions()) == 2


def test_decisions_of_concurrent_callers_are_all_committed_sharing_commits(
    store: ResultsStore, monkeypatch
) -> None:
    commits = []
    begin = store.engine.begin

    def counted():
        commits.append(1)
        return begin()

    monkeypatch.setattr(store.engine, "begin", counted)

    def caller(n: int) -> list[int]:
        return [
            store.record_decision(f"key-{n}", "/score", {"i": i}, {"n": n}, {}, "p1", customer_id=f"C{n}")
            for i in range(25)
        ]

    with ThreadPoolExecutor(16) as pool:
        ids = [row_id for rows in pool.map(caller, range(16)) for row_id in rows]
    assert len(set(ids)) == 16 * 25
    trail = store.decisions(limit=1000)
    assert sorted(trail["audit_id"]) == sorted(ids)
    assert sorted(trail.groupby("customer_id").size()) == [25] * 16
    assert len(commits) < len(ids)  # callers who wait together share a commit


def test_a_failed_commit_reaches_every_caller_of_it(store: ResultsStore) -> None:
    with pytest.raises(sa.exc.StatementError):
        store.record_decision("key-1", "/score", {}, {}, {}, "p1", customer_id=object())  # not storable
    assert store.record_decision("key-1", "/score", {}, {}, {}, "p1") > 0  # the writer goes on


def test_a_database_from_before_the_basis_column_gets_it(store: ResultsStore) -> None:
    """Scores stored before scores carried their basis all came from the default model."""
    run_id, _ = store.start_run(AS_OF, "default:1", "p1", "local", "ledger", n_customers=1, n_chunks=1)
    store.commit_chunk(run_id, 0, _scores(run_id, ["C1"]))
    with store.engine.begin() as con:
        con.exec_driver_sql("ALTER TABLE scores DROP COLUMN basis")
    again = ResultsStore(store.url)
    assert again.scores_for(AS_OF)["basis"].tolist() == ["model"]
    again.close()


def test_alert_memory_gives_each_customers_last_score_before_the_date_and_open_alerts(
    store: ResultsStore,
) -> None:
    june = store.start_run(AS_OF, "default:1", "p1", "local", "ledger", n_customers=2, n_chunks=1)[0]
    store.commit_chunk(june, 0, _scores(june, ["C1", "C2"]))
    july = date(2025, 7, 31)
    later = store.start_run(july, "default:1", "p1", "local", "ledger", n_customers=1, n_chunks=1)[0]
    store.commit_chunk(later, 0, _scores(later, ["C1"]).assign(as_of=july, pd_12m=0.2, grade=6))
    alert = {"alert_type": "pd_level", "severity": "warning", "facts": {}, "action": "review_credit"}
    alert |= {"opened_as_of": AS_OF, "opened_run_id": None}
    store.record_alert_changes(
        [{**alert, "customer_id": c, "key": k} for c, k in [("C1", "a"), ("C3", "b")]], []
    )
    closed = {**alert, "customer_id": "C3", "key": "b", "closed_as_of": july, "closed_run_id": None}
    store.record_alert_changes([], [closed])

    scores, held = store.alert_memory(["C1", "C2", "C3"], before=date(2025, 8, 1))
    assert sorted(scores) == [("C1", 0.2, 6), ("C2", 0.02, 3)]  # C1's July score, not June's
    customer, key = MEMORY_ALERT_COLUMNS.index("customer_id"), MEMORY_ALERT_COLUMNS.index("key")
    assert [(row[customer], row[key]) for row in held] == [("C1", "a")]  # C3's alert is resolved
    scores, _ = store.alert_memory(["C1"], before=july)  # on the July date: what was stored before it
    assert scores == [("C1", 0.02, 3)]
    assert store.alert_memory([], before=july) == ([], [])


def test_an_alert_is_remembered_as_foreseen_before_it_was_stored(store: ResultsStore) -> None:
    alert = {
        "customer_id": "C7",
        "alert_type": "overdue_amount",
        "key": 3,
        "severity": "warning",
        "facts": {"overdue": 1250.5, "invoices": ["I1", "I2"]},
        "action": "call_customer",
        "text": "1,250.50 overdue",
        "opened_as_of": AS_OF,
        "opened_run_id": None,
    }
    foreseen = remembered_alert(alert)
    store.record_alert_changes([alert], [])
    assert store.alert_memory(["C7"], before=AS_OF)[1] == [foreseen]


def test_a_shared_commit_gives_each_caller_its_own_row_id(store: ResultsStore) -> None:
    with ThreadPoolExecutor(8) as pool:
        ids = list(
            pool.map(lambda n: (n, store.record_decision("k", "/score", {}, {"n": n}, {}, "p1")), range(40))
        )
    trail = store.decisions(limit=100).set_index("audit_id")
    assert all(json.loads(trail.loc[row_id, "response"]) == {"n": n} for n, row_id in ids)
