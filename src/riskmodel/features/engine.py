"""Run the feature SQL on DuckDB over a ledger's Arrow tables."""

from __future__ import annotations

import logging
import math

import pandas as pd
import pyarrow as pa

from riskmodel.duck import duckdb_cursor
from riskmodel.features.definitions import FeatureConfig, Level
from riskmodel.features.query import SNAPSHOT_KEY, build_feature_sql
from riskmodel.ledger.schema import TABLE_NAMES
from riskmodel.ledger.tables import Ledger

logger = logging.getLogger(__name__)

LEDGER_TABLES = TABLE_NAMES
SNAPSHOTS_PER_CHUNK = 250_000


def run_feature_query(
    ledger: Ledger,
    snapshots: pa.Table,
    level: Level,
    config: FeatureConfig | None = None,
    snapshots_per_chunk: int = SNAPSHOTS_PER_CHUNK,
) -> pd.DataFrame:
    """Features for every snapshot row (see :func:`riskmodel.features.query.build_feature_sql`).

    Many snapshots (e.g. one per invoice) are computed in chunks of whole customers, so
    memory stays bounded: a snapshot only ever sees its own customer's rows.
    """
    sql = build_feature_sql(level, config)
    n_chunks = math.ceil(snapshots.num_rows / snapshots_per_chunk)
    if n_chunks <= 1:
        with duckdb_cursor() as con:
            for name in LEDGER_TABLES:
                con.register(name, getattr(ledger, name))  # zero-copy
            con.register("snapshots", snapshots)
            return con.sql(sql).df()
    return _run_in_chunks(ledger, snapshots, sql, n_chunks)


def _run_in_chunks(ledger: Ledger, snapshots: pa.Table, sql: str, n_chunks: int) -> pd.DataFrame:
    """The feature query chunk by chunk over tables partitioned by a hash of ``customer_id``."""
    with duckdb_cursor() as con:
        for name, table in (*((n, getattr(ledger, n)) for n in LEDGER_TABLES), ("snapshots", snapshots)):
            con.register(f"all_{name}", table)
            con.execute(
                f"CREATE TEMP TABLE part_{name} AS SELECT *, hash(customer_id) % {n_chunks} AS __chunk FROM all_{name} ORDER BY __chunk"
            )
            con.unregister(f"all_{name}")
        frames = []
        for chunk in range(n_chunks):
            for name in (*LEDGER_TABLES, "snapshots"):
                con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * EXCLUDE (__chunk) FROM part_{name} WHERE __chunk = {chunk}"
                )
            frames.append(con.sql(sql).df())
            logger.info("features: chunk %d of %d done", chunk + 1, n_chunks)
        filled = [f for f in frames if len(f)] or frames[:1]  # empty chunks would loosen the column types
        return pd.concat(filled, ignore_index=True).sort_values(SNAPSHOT_KEY, ignore_index=True)
