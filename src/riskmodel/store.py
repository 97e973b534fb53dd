"""The results database: rescoring runs, scores, alerts and the audit trail of decisions.

An embedded SQLite file by default; any SQLAlchemy URL (PostgreSQL in production) works
the same. Writes that belong together commit together: a chunk of scores with its
alert changes and its progress mark, so that a run killed at any point resumes without
losing or doubling anything.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from riskmodel.jsonable import to_jsonable
from riskmodel.locks import machine_lock

DEFAULT_DB_URL = "sqlite:///riskmodel.db"

metadata = sa.MetaData()

runs = sa.Table(
    "score_runs",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("model_version", sa.String(200), nullable=False),
    sa.Column("policy_version", sa.String(100), nullable=False),
    sa.Column("engine", sa.String(20), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # running | done
    sa.Column("n_customers", sa.Integer, nullable=False),
    sa.Column("n_chunks", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("as_of", "model_version", name="uq_run_as_of_model"),
)

run_chunks = sa.Table(
    "score_run_chunks",
    metadata,
    sa.Column("run_id", sa.String(36), sa.ForeignKey("score_runs.run_id"), primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
)

scores = sa.Table(
    "scores",
    metadata,
    sa.Column("as_of", sa.Date, primary_key=True),
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("model_version", sa.String(200), primary_key=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("score_runs.run_id"), nullable=False),
    sa.Column("pd_12m", sa.Float, nullable=False),
    sa.Column("grade", sa.Integer, nullable=False),
    sa.Column("basis", sa.String(10)),  # model | rules (the policy's payment-behaviour rules)
    sa.Column("current_limit", sa.Float),
    sa.Column("recommended_limit", sa.Float),
    sa.Column("limit_rationale", sa.Text),
    sa.Column("reasons", sa.Text),
    sa.Column("policy_version", sa.String(100), nullable=False),
)
sa.Index("ix_scores_customer", scores.c.customer_id, scores.c.as_of)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("alert_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("alert_type", sa.String(60), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Column("facts", sa.Text, nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column(
        "status", sa.String(10), nullable=False
    ),  # open | resolved (closed in databases written before)
    sa.Column("opened_as_of", sa.Date, nullable=False),
    sa.Column("opened_run_id", sa.String(36)),
    sa.Column("closed_as_of", sa.Date),
    sa.Column("closed_run_id", sa.String(36)),
)
sa.Index("ix_alerts_open", alerts.c.customer_id, alerts.c.status)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("key_id", sa.String(100), nullable=False),
    sa.Column("endpoint", sa.String(100), nullable=False),
    sa.Column("customer_id", sa.String(200)),
    sa.Column("request", sa.Text, nullable=False),
    sa.Column("response", sa.Text, nullable=False),
    sa.Column("model_versions", sa.Text, nullable=False),
    sa.Column("policy_version", sa.String(100), nullable=False),
)
sa.Index("ix_audit_customer", audit.c.customer_id, audit.c.at)

SCORE_COLUMNS = tuple(c.name for c in scores.columns)
SLIM_SCORE_COLUMNS = ("customer_id", "pd_12m", "grade", "current_limit", "recommended_limit")
ALERT_IDENTITY = ("customer_id", "alert_type", "key")
ALERT_COLUMNS = tuple(c.name for c in alerts.columns)
MEMORY_SCORE_COLUMNS = ("customer_id", "pd_12m", "grade")
LAST_SCORE = (
    sa.select(*(scores.c[name] for name in MEMORY_SCORE_COLUMNS))
    .where(scores.c.customer_id == sa.bindparam("customer_id"), scores.c.as_of < sa.bindparam("before"))
    .order_by(scores.c.as_of.desc())
    .limit(1)
)
# Open alerts as the alert rules remember them: every column but the database's own id (an
# alert is known by its identity), so that the memory an answer leaves can be foreseen.
MEMORY_ALERT_COLUMNS = tuple(name for name in ALERT_COLUMNS if name != "alert_id")
OPEN_ALERTS = sa.select(alerts).where(alerts.c.status == "open").order_by(alerts.c.alert_id)
OPEN_ALERTS_OF = OPEN_ALERTS.where(alerts.c.customer_id.in_(sa.bindparam("customer_ids", expanding=True)))
REMEMBERED_ALERTS_OF = OPEN_ALERTS_OF.with_only_columns(*(alerts.c[name] for name in MEMORY_ALERT_COLUMNS))


def _now() -> datetime:
    return datetime.now(UTC)


def _json(value: Any) -> str:
    return (
        value
        if isinstance(value, str)
        else json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)
    )


def resolve_url(url: str | Path | None) -> str:
    """An SQLAlchemy URL from a URL or a file path (``None`` gives the default SQLite file)."""
    if url is None:
        return DEFAULT_DB_URL
    text = str(url)
    return text if "://" in text else f"sqlite:///{text}"


class GroupCommit:
    """Rows of one table written by one thread, the rows of callers waiting together sharing one commit.

    :meth:`write` returns the row's id once the transaction holding it is committed, so a
    caller that answers afterwards never answers with a row that could be lost; callers
    never wait on each other's locks (SQLite lets one writer at a time in).
    """

    MAX_ROWS = 500  # rows per commit at most

    def __init__(self, begin: Callable[[], AbstractContextManager[sa.Connection]], table: sa.Table) -> None:
        self._begin, self.table = begin, table
        (key,) = table.primary_key.columns
        self._insert = table.insert().returning(key, sort_by_parameter_order=True)  # ids in the rows' order
        self._queue: queue.Queue[tuple[dict[str, Any], Future[int]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def write(self, row: dict[str, Any]) -> int:
        done: Future[int] = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"commit-{self.table.name}", daemon=True
                )
                self._thread.start()
            self._queue.put((row, done))
        return done.result()

    def close(self) -> None:
        """Commit what is waiting, then stop the writer thread."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._queue.put(None)
                self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.MAX_ROWS:
                try:
                    waiting = self._queue.get_nowait()
                except queue.Empty:
                    break
                if waiting is None:
                    self._queue.put(None)  # stop after this commit
                    break
                batch.append(waiting)
            try:
                with self._begin() as con:
                    inserted = con.execute(self._insert, [row for row, _ in batch])
                    ids = [int(row_id) for row_id in inserted.scalars()]
            except Exception as err:  # every caller of the failed commit gets the error
                for _, done in batch:
                    done.set_exception(err)
            else:
                for (_, done), row_id in zip(batch, ids, strict=True):
                    done.set_result(row_id)


class ResultsStore:
    """Scores, alerts, run records and the audit trail in one database.

    Parameters
    ----------
    url
        SQLAlchemy URL or path of an SQLite file; tables are created when missing.
    """

    def __init__(self, url: str | Path | None = None) -> None:
        self.url = resolve_url(url)
        self.engine = sa.create_engine(self.url, future=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)
        _add_basis_column(self.engine)
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        self._sqlite_file = str(Path(database).resolve()) if database and database != ":memory:" else None
        self._audit = GroupCommit(self.writing, audit)

    def close(self) -> None:
        self._audit.close()
        self.engine.dispose()

    @contextmanager
    def writing(self) -> Iterator[sa.Connection]:
        """A write transaction. On an SQLite file, one process of the machine writes at a time.

        SQLite lets one writer in and makes the others poll with sleeps of up to 100 ms; an
        OS lock taken first queues them instead, so the service's workers and a rescore job
        do not stall each other's commits.
        """
        if self._sqlite_file is None:
            with self.engine.begin() as con:
                yield con
            return
        with machine_lock("sqlite", self._sqlite_file), self.engine.begin() as con:
            yield con

    # -- runs -------------------------------------------------------------------------
    def start_run(
        self,
        as_of: date,
        model_version: str,
        policy_version: str,
        engine: str,
        source: str,
        n_customers: int,
        n_chunks: int,
    ) -> tuple[str, set[int]]:
        """The run for ``(as_of, model_version)``: a new one, or the unfinished one with its committed chunks."""
        with self.writing() as con:
            row = con.execute(
                sa.select(runs.c.run_id).where(runs.c.as_of == as_of, runs.c.model_version == model_version)
            ).first()
            if row is not None:
                done = {
                    r.chunk
                    for r in con.execute(
                        sa.select(run_chunks.c.chunk).where(run_chunks.c.run_id == row.run_id)
                    )
                }
                return row.run_id, done
            run_id = str(uuid.uuid4())
            con.execute(
                runs.insert().values(
                    run_id=run_id,
                    as_of=as_of,
                    model_version=model_version,
                    policy_version=policy_version,
                    engine=engine,
                    source=source,
                    status="running",
                    n_customers=n_customers,
                    n_chunks=n_chunks,
                    started_at=_now(),
                )
            )
        return run_id, set()

    def run(self, run_id: str) -> dict[str, Any]:
        with self.engine.connect() as con:
            row = con.execute(sa.select(runs).where(runs.c.run_id == run_id)).mappings().one()
        return dict(row)

    def previous_run(self, as_of: date, model_version_prefix: str = "") -> dict[str, Any] | None:
        """The latest finished run strictly before ``as_of`` (for migration matrices and alert memory)."""
        query = (
            sa.select(runs)
            .where(runs.c.as_of < as_of, runs.c.status == "done")
            .order_by(runs.c.as_of.desc(), runs.c.finished_at.desc())
        )
        if model_version_prefix:
            query = query.where(runs.c.model_version.startswith(model_version_prefix))
        with self.engine.connect() as con:
            row = con.execute(query.limit(1)).mappings().first()
        return dict(row) if row else None

    def find_run(self, as_of: date, model_version: str) -> dict[str, Any] | None:
        """The run record of ``(as_of, model_version)``, or None when there is none yet."""
        query = sa.select(runs).where(runs.c.as_of == as_of, runs.c.model_version == model_version)
        with self.engine.connect() as con:
            row = con.execute(query).mappings().first()
        return dict(row) if row else None

    def finish_run(self, run_id: str) -> None:
        with self.writing() as con:
            con.execute(
                runs.update().where(runs.c.run_id == run_id).values(status="done", finished_at=_now())
            )

    # -- scores and alerts, one chunk at a time -----------------------------------------
    def commit_chunk(
        self,
        run_id: str,
        chunk: int,
        score_rows: pd.DataFrame,
        opened: Sequence[Mapping[str, Any]] = (),
        closed: Sequence[Mapping[str, Any]] = (),
    ) -> bool:
        """Write a chunk's scores and alert changes atomically; ``False`` when the chunk was already committed."""
        records = [
            to_jsonable(row, iso_dates=False) for row in score_rows[list(SCORE_COLUMNS)].to_dict("records")
        ]
        with self.writing() as con:
            if con.execute(
                sa.select(run_chunks.c.chunk).where(
                    run_chunks.c.run_id == run_id, run_chunks.c.chunk == chunk
                )
            ).first():
                return False
            if records:
                con.execute(scores.insert(), records)
            _write_alert_changes(con, opened, closed)
            con.execute(
                run_chunks.insert().values(
                    run_id=run_id, chunk=chunk, n_rows=len(records), committed_at=_now()
                )
            )
        return True

    def record_alert_changes(
        self, opened: Sequence[Mapping[str, Any]], closed: Sequence[Mapping[str, Any]]
    ) -> None:
        """Store alerts the service raised or resolved (one transaction); an alert already open is not opened twice."""
        if not opened and not closed:
            return
        customers = sorted({str(alert["customer_id"]) for alert in opened})
        with self.writing() as con:
            already_open = {
                tuple(row)
                for row in con.execute(
                    sa.select(*(alerts.c[k] for k in ALERT_IDENTITY)).where(
                        alerts.c.customer_id.in_(customers), alerts.c.status == "open"
                    )
                )
            }
            fresh = [alert for alert in opened if alert_identity(alert) not in already_open]
            _write_alert_changes(con, fresh, closed)

    def scores_for(
        self, as_of: date, model_version: str | None = None, customer_ids: Iterable[str] | None = None
    ) -> pd.DataFrame:
        query = sa.select(scores).where(scores.c.as_of == as_of)
        if model_version is not None:
            query = query.where(scores.c.model_version == model_version)
        if customer_ids is not None:
            query = query.where(scores.c.customer_id.in_(list(customer_ids)))
        with self.engine.connect() as con:
            return pd.read_sql(query, con)

    def run_scores(self, run: Mapping[str, Any] | None) -> pd.DataFrame:
        """``SLIM_SCORE_COLUMNS`` of a run's scores, sorted by customer (empty without a run)."""
        if run is None:
            return pd.DataFrame(
                {
                    name: pd.Series(dtype=object if name == "customer_id" else float)
                    for name in SLIM_SCORE_COLUMNS
                }
            )
        query = (
            sa.select(*(scores.c[name] for name in SLIM_SCORE_COLUMNS))
            .where(scores.c.as_of == run["as_of"], scores.c.model_version == run["model_version"])
            .order_by(scores.c.customer_id)
        )
        with self.engine.connect() as con:
            return pd.read_sql(query, con)

    def export_scores(self, as_of: date, model_version: str) -> pd.DataFrame:
        """Every stored column of the scores of ``(as_of, model_version)``, sorted by customer."""
        query = (
            sa.select(scores)
            .where(scores.c.as_of == as_of, scores.c.model_version == model_version)
            .order_by(scores.c.customer_id)
        )
        with self.engine.connect() as con:
            return pd.read_sql(query, con)

    def alert_memory(
        self, customer_ids: Sequence[str], before: date
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """What the alert rules remember of these customers, as rows: each one's latest stored score
        dated before ``before`` as ``MEMORY_SCORE_COLUMNS``, and the open alerts as
        ``MEMORY_ALERT_COLUMNS``, in the order opened.

        Read on one connection with statements built once: the service asks this on every
        ``/score``.
        """
        with self.engine.connect() as con:
            last = [
                con.execute(LAST_SCORE, {"customer_id": c, "before": before}).first() for c in customer_ids
            ]
            held = con.execute(REMEMBERED_ALERTS_OF, {"customer_ids": list(customer_ids)}).all()
        return [tuple(row) for row in last if row is not None], [tuple(row) for row in held]

    def open_alerts(self, customer_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Alerts open now (of these customers), in the order opened; every column of the alerts table."""
        with self.engine.connect() as con:
            if customer_ids is None:
                rows = con.execute(OPEN_ALERTS).all()
            else:
                rows = con.execute(OPEN_ALERTS_OF, {"customer_ids": list(customer_ids)}).all()
        return pd.DataFrame(rows, columns=list(ALERT_COLUMNS))

    def alert_history(self) -> pd.DataFrame:
        """Every alert ever opened, open or closed, in the order opened."""
        with self.engine.connect() as con:
            return pd.read_sql(sa.select(alerts).order_by(alerts.c.alert_id), con)

    def alerts_opened_in(self, run_id: str) -> pd.DataFrame:
        with self.engine.connect() as con:
            return pd.read_sql(sa.select(alerts).where(alerts.c.opened_run_id == run_id), con)

    def alerts_closed_in(self, run_id: str) -> pd.DataFrame:
        with self.engine.connect() as con:
            return pd.read_sql(sa.select(alerts).where(alerts.c.closed_run_id == run_id), con)

    # -- audit --------------------------------------------------------------------------
    def record_decision(
        self,
        key_id: str,
        endpoint: str,
        request: Any,
        response: Any,
        model_versions: Mapping[str, str],
        policy_version: str,
        customer_id: str | None = None,
    ) -> int:
        """Write one decision to the audit trail and return its id once committed (:class:`GroupCommit`)."""
        return self._audit.write(
            {
                "at": _now(),
                "key_id": key_id,
                "endpoint": endpoint,
                "customer_id": customer_id,
                "request": _json(request),
                "response": _json(response),
                "model_versions": _json(dict(model_versions)),
                "policy_version": policy_version,
            }
        )

    def decisions(self, customer_id: str | None = None, limit: int = 100) -> pd.DataFrame:
        query = sa.select(audit).order_by(audit.c.audit_id.desc()).limit(limit)
        if customer_id is not None:
            query = query.where(audit.c.customer_id == customer_id)
        with self.engine.connect() as con:
            return pd.read_sql(query, con)


def _write_alert_changes(
    con: sa.Connection, opened: Sequence[Mapping[str, Any]], closed: Sequence[Mapping[str, Any]]
) -> None:
    """Insert the opened alerts and mark the closed ones ``resolved`` (only while still open)."""
    if opened:
        con.execute(alerts.insert(), [_alert_row(a) for a in opened])
    for alert in closed:
        con.execute(
            alerts.update()
            .where(*(alerts.c[k] == alert[k] for k in ALERT_IDENTITY), alerts.c.status == "open")
            .values(
                status="resolved",
                closed_as_of=alert["closed_as_of"],
                closed_run_id=alert.get("closed_run_id"),
            )
        )


def alert_identity(alert: Mapping[str, Any]) -> tuple[str, ...]:
    """(customer_id, alert_type, key) of an alert, as text."""
    return tuple(str(alert[k]) for k in ALERT_IDENTITY)


def remembered_alert(alert: Mapping[str, Any]) -> tuple[Any, ...]:
    """An alert about to be opened as :meth:`ResultsStore.alert_memory` will read it back once stored."""
    row = _alert_row(alert)
    return tuple(row.get(name) for name in MEMORY_ALERT_COLUMNS)


def _alert_row(alert: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "customer_id": alert["customer_id"],
        "alert_type": alert["alert_type"],
        "key": str(alert.get("key", "")),
        "severity": str(alert["severity"]),
        "facts": _json(alert.get("facts", {})),
        "action": str(alert.get("action", "")),
        "text": str(alert.get("text", "")),
        "status": "open",
        "opened_as_of": alert["opened_as_of"],
        "opened_run_id": alert.get("opened_run_id"),
    }


def _add_basis_column(engine: sa.Engine) -> None:
    """Give a ``scores`` table made before scores carried their basis the column.

    Every score stored before then came from the default model (scoring needed one), so
    the rows already there get ``model``.
    """
    if "basis" in {column["name"] for column in sa.inspect(engine).get_columns("scores")}:
        return
    with engine.begin() as con:
        con.exec_driver_sql("ALTER TABLE scores ADD COLUMN basis VARCHAR(10)")
        con.execute(scores.update().values(basis="model"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
