"""Run the feature SQL on DuckDB over a ledger's Arrow tables."""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

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


def _chunks(
    con: duckdb.DuckDBPyConnection, ledger: Ledger, snapshots: pa.Table, n_chunks: int
) -> Iterator[int]:
    """Point the ledger's table names and ``snapshots`` at each chunk of customers in turn (a hash of ``customer_id``)."""
    for name, table in (*((n, getattr(ledger, n)) for n in LEDGER_TABLES), ("snapshots", snapshots)):
        con.register(f"all_{name}", table)
        con.execute(
            f"CREATE TEMP TABLE part_{name} AS SELECT *, hash(customer_id) % {n_chunks} AS __chunk FROM all_{name} ORDER BY __chunk"
        )
        con.unregister(f"all_{name}")
    for chunk in range(n_chunks):
        for name in (*LEDGER_TABLES, "snapshots"):
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * EXCLUDE (__chunk) FROM part_{name} WHERE __chunk = {chunk}"
            )
        yield chunk
        logger.info("features: chunk %d of %d done", chunk + 1, n_chunks)


def _run_in_chunks(ledger: Ledger, snapshots: pa.Table, sql: str, n_chunks: int) -> pd.DataFrame:
    """The feature query chunk by chunk over tables partitioned by a hash of ``customer_id``."""
    with duckdb_cursor() as con:
        frames = [con.sql(sql).df() for _ in _chunks(con, ledger, snapshots, n_chunks)]
        filled = [f for f in frames if len(f)] or frames[:1]  # empty chunks would loosen the column types
        return pd.concat(filled, ignore_index=True).sort_values(SNAPSHOT_KEY, ignore_index=True)


def write_feature_query(
    ledger: Ledger,
    snapshots: pa.Table,
    level: Level,
    path: Path,
    config: FeatureConfig | None = None,
    keys: Sequence[str] = (),
    snapshots_per_chunk: int = SNAPSHOTS_PER_CHUNK,
) -> int:
    """:func:`run_feature_query` written to ``path`` (.parquet or .csv) without holding the table in memory.

    Each chunk's rows go to a Parquet file beside ``path`` as soon as they are computed;
    DuckDB then writes them to ``path`` in snapshot order, after the ``keys`` columns of
    ``snapshots`` and without ``snapshot_id`` and ``as_of``, sorting on disk when the table
    is larger than its memory limit. Decimal sums are written as doubles, as the
    in-memory table has them. Returns the number of rows written.
    """
    sql = build_feature_sql(level, config)
    parts = path.with_name(f".{path.name}.parts.parquet")
    spill = Path(tempfile.mkdtemp(prefix=f".{path.name}.spill-", dir=path.parent))
    n_chunks = max(1, math.ceil(snapshots.num_rows / snapshots_per_chunk))
    try:
        with duckdb_cursor() as con:
            con.execute(f"SET temp_directory = '{_quoted(str(spill))}'")
            writer: pq.ParquetWriter | None = None
            for _ in _chunks(con, ledger, snapshots, n_chunks):
                reader = con.sql(sql).arrow()
                writer = writer or pq.ParquetWriter(parts, reader.schema)
                for batch in reader:
                    writer.write_batch(batch)
            assert writer is not None
            writer.close()
            con.register("snapshot_keys", snapshots.select([SNAPSHOT_KEY, *keys]))
            columns = [
                f"CAST(f.{field.name} AS DOUBLE) AS {field.name}"
                if pa.types.is_decimal(field.type)
                else f"f.{field.name}"
                for field in pq.read_schema(parts)
                if field.name not in (SNAPSHOT_KEY, "as_of")
            ]
            written = con.execute(
                f"""
                COPY (
                    SELECT {", ".join([*(f"k.{key}" for key in keys), *columns])}
                    FROM read_parquet('{_quoted(str(parts))}') f JOIN snapshot_keys k USING ({SNAPSHOT_KEY})
                    ORDER BY f.{SNAPSHOT_KEY}
                ) TO '{_quoted(str(path))}' ({_copy_format(path)})
                """
            ).fetchone()
            con.execute("RESET temp_directory")  # the process's database spills where it did before
            return int(written[0]) if written else 0
    finally:
        parts.unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _copy_format(path: Path) -> str:
    if path.suffix.lower() == ".csv":
        return "FORMAT csv, HEADER true, DATEFORMAT '%Y-%m-%d'"
    return "FORMAT parquet"
