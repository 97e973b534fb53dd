"""The Spark engine: the registry's feature SQL translated for Spark, the models run on the executors.

The ledger is validated on the driver (:func:`riskmodel.ledger.load_ledger`, the one door
through which data enters), handed to Spark as temporary views, and the feature query
of :mod:`riskmodel.features.query` runs there after :func:`spark_sql` translates it.
Chunks of customers are scored in parallel with ``mapInArrow``: each task unpickles the
same model objects the local engine uses and calls the same
:func:`riskmodel.scoring.score_features`. Alerts, limits and the database stay on the
driver, as with the local engine.

Running on a cluster (the driver is the ``riskmodel rescore`` process)::

    riskmodel rescore LEDGER --as-of 2025-12-31 --out scores.parquet --db postgresql+psycopg://... \
        --engine spark --spark-master spark://master:7077 \
        --spark-conf spark.driver.memory=8g --spark-conf spark.executor.memory=4g \
        --spark-conf spark.driver.host=<address the executors can reach> \
        --spark-conf spark.archives=riskmodel-env.tar.gz#env   # a venv-pack of .venv
    # with PYSPARK_PYTHON=./env/bin/python, so that the tasks import riskmodel;
    # or Spark Connect: SPARK_REMOTE=sc://host:15002 riskmodel rescore ... --engine spark

The executors need riskmodel and its dependencies (the same versions as the driver),
because the tasks unpickle the model objects. The ledger passes through the driver once
(validated there, then sent to Spark), so the driver needs memory for it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

from riskmodel.features.customer import customer_snapshots, is_active
from riskmodel.features.definitions import FeatureConfig
from riskmodel.features.invoice import invoice_snapshots
from riskmodel.features.query import SNAPSHOT_KEY, build_feature_sql, to_dialect
from riskmodel.ledger.schema import TABLE_NAMES
from riskmodel.ledger.tables import Ledger
from riskmodel.rescore.chunks import Chunk, Portfolio
from riskmodel.scoring import (
    ModelBundle,
    score_features,
    score_open_invoices,
)

logger = logging.getLogger(__name__)

LEDGER_TABLES = TABLE_NAMES
LOCAL_CONF = {  # a local master: loopback networking, no web UI
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
}
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",  # dates stay dates: no shift by the machine's zone
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
SCORE_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("pd_12m", pa.float64()),
        ("grade", pa.int64()),
        ("basis", pa.string()),
        ("in_default", pa.bool_()),
        ("default_date", pa.date32()),
        ("reasons", pa.string()),  # JSON
    ]
)
SPARK_TYPES = {
    pa.string(): "string",
    pa.float64(): "double",
    pa.int64(): "bigint",
    pa.bool_(): "boolean",
    pa.date32(): "date",
}
CHUNK_COLUMN, DEFAULT_PREFIX = "__chunk", "__default_"  # default-state columns travel with the features


def spark_session(
    master: str | None = None, remote: str | None = None, conf: dict[str, str] | None = None
) -> Any:
    """A SparkSession: Spark Connect at ``remote``, else ``master`` (default ``local[*]``).

    A local master runs the Python workers with this interpreter (so they import
    riskmodel from the same environment), binds the driver to 127.0.0.1 and has no web
    UI; a cluster master takes these settings from the usual Spark configuration
    (spark-defaults.conf, ``spark-submit --conf``).
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("riskmodel-rescore")
    if remote:
        builder = builder.remote(remote)
    else:
        master = master or "local[*]"
        builder = builder.master(master)
        if master.startswith("local"):
            # Python workers run this interpreter, so they import riskmodel from the same environment
            # (pyspark reads PYSPARK_PYTHON when the context starts; its default is "python3" on the PATH).
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            for key, value in LOCAL_CONF.items():
                builder = builder.config(key, value)
    for key, value in {**SESSION_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def ddl(schema: pa.Schema) -> str:
    """The Spark DDL of an Arrow schema, e.g. ``customer_id string, pd_12m double``."""
    return ", ".join(f"{field.name} {SPARK_TYPES[field.type]}" for field in schema)


def spark_sql(duckdb_sql: str) -> str:
    """The feature query in Spark SQL, translated from DuckDB's dialect by sqlglot.

    sqlglot writes ``date_diff('day', a, b)`` as ``DATEDIFF(DAY, a, b)`` (Spark's
    ``timestampdiff`` on dates: whole days) and ``VARCHAR`` as ``STRING``; the
    translation needs nothing else today, and the Spark tests compare every feature with
    DuckDB's so that a construct that translates wrongly is caught.
    """
    return to_dialect(duckdb_sql, "spark")


def _score_batches(
    bundle: ModelBundle, comparison: pd.Series, lang: str
) -> Any:  # the function mapInArrow runs on each partition
    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            frame = batch.to_pandas()
            packed = [c for c in frame.columns if c.startswith(DEFAULT_PREFIX)]
            default_state = frame[packed].rename(columns=lambda c: c[len(DEFAULT_PREFIX) :])
            frame = frame.drop(columns=[CHUNK_COLUMN, *packed])
            scored = score_features(bundle, frame, default_state.reset_index(drop=True), comparison, lang)
            scored["reasons"] = [json.dumps(r, ensure_ascii=False) for r in scored["reasons"]]
            yield pa.RecordBatch.from_pandas(scored, schema=SCORE_SCHEMA, preserve_index=False)

    return score


def _job_rows(portfolio: Portfolio, job: list[Chunk]) -> pd.DataFrame:
    """Features of the job's customers with their chunk number and default state."""
    parts = []
    for chunk in job:
        features, default_state = portfolio.rows(chunk)
        state = default_state.drop(columns="customer_id")
        text = state.select_dtypes("object").columns  # typed for Spark: empty text where not in default
        state = state.assign(**{c: state[c].fillna("").astype(str) for c in text}).add_prefix(DEFAULT_PREFIX)
        parts.append(
            pd.concat(
                [features.assign(**{CHUNK_COLUMN: chunk.number}), state.set_axis(features.index)], axis=1
            )
        )
    return pd.concat(parts, ignore_index=True)


class SparkEngine:
    """Features and models on Spark (``local[*]``, a cluster master, or Spark Connect).

    Parameters
    ----------
    session
        An existing SparkSession (tests share one); otherwise one is started from
        ``master`` / ``remote`` / ``conf`` (see :func:`spark_session`) and stopped by :meth:`close`.
    chunks_per_job
        Chunks scored by one Spark job; each chunk is one task, and a job's chunks are
        committed as soon as it ends.
    """

    name = "spark"

    def __init__(
        self,
        session: Any = None,
        master: str | None = None,
        remote: str | None = None,
        conf: dict[str, str] | None = None,
        chunks_per_job: int = 8,
    ) -> None:
        self._owns_session = session is None
        self.session = session if session is not None else spark_session(master, remote, conf)
        self.chunks_per_job = chunks_per_job
        self._ledger: Ledger | None = None

    def close(self) -> None:
        """Stop the session if this engine started it."""
        if self._owns_session:
            self.session.stop()

    def _view(self, name: str, table: pa.Table) -> None:
        self.session.createDataFrame(table).createOrReplaceTempView(name)

    def _register(self, ledger: Ledger) -> None:
        """The ledger's tables as temporary views (once per ledger)."""
        if self._ledger is ledger:
            return
        for name in LEDGER_TABLES:
            self._view(name, getattr(ledger, name))
        self._ledger = ledger

    def feature_table(self, ledger: Ledger, snapshots: pa.Table, level: str, config: FeatureConfig) -> Any:
        """The Spark DataFrame of the feature query over ``snapshots`` (one row per snapshot)."""
        self._register(ledger)
        self._view("snapshots", snapshots)
        return self.session.sql(spark_sql(build_feature_sql(level, config)))  # type: ignore[arg-type]

    def customer_features(self, ledger: Ledger, as_of: date, config: FeatureConfig) -> pd.DataFrame:
        snapshots = customer_snapshots(ledger, [as_of])
        frame = (
            self.feature_table(ledger, snapshots, "customer", config)
            .toArrow()
            .to_pandas(date_as_object=False)
        )
        frame = frame[is_active(frame, config)]
        return frame.drop(columns=SNAPSHOT_KEY).reset_index(drop=True)

    def score_chunks(
        self, bundle: ModelBundle, portfolio: Portfolio, chunks: Sequence[Chunk], lang: str
    ) -> Iterator[tuple[Chunk, pd.DataFrame]]:
        score = _score_batches(bundle, portfolio.comparison, lang)
        for start in range(0, len(chunks), self.chunks_per_job):
            job = list(chunks[start : start + self.chunks_per_job])
            rows = _job_rows(portfolio, job)
            frame = self.session.createDataFrame(pa.Table.from_pandas(rows, preserve_index=False))
            scored = (
                frame.repartitionByRange(len(job), CHUNK_COLUMN)
                .mapInArrow(score, ddl(SCORE_SCHEMA))
                .toArrow()
                .to_pandas()
                .set_index("customer_id")
            )
            scored["reasons"] = [json.loads(text) for text in scored["reasons"]]
            for chunk in job:
                ids = portfolio.rows(chunk)[0]["customer_id"]
                yield chunk, scored.loc[ids.to_numpy()].reset_index()

    def score_invoices(self, bundle: ModelBundle, ledger: Ledger, invoices: pd.DataFrame) -> pd.DataFrame:
        if bundle.late_payment is None or invoices.empty:
            return score_open_invoices(bundle, ledger, invoices)  # the empty columns, as the local engine
        model = bundle.late_payment
        snapshots = invoice_snapshots(ledger, None, invoices["invoice_id"])
        features = self.feature_table(ledger, snapshots, "invoice", model.feature_config)
        keys = self.session.table("snapshots").select(SNAPSHOT_KEY, "invoice_id", "issue_date")
        table = keys.join(features, on=SNAPSHOT_KEY).toArrow().to_pandas(date_as_object=False)
        table = table.drop(columns=[SNAPSHOT_KEY, "as_of"])
        # the features come from Spark; the conditional timing of each open invoice is scored here
        return score_open_invoices(bundle, ledger, invoices, features=table)
