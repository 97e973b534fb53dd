"""Write ledger tables to a folder (CSV or Parquet) or to a SQL database."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from riskmodel.ledger.schema import TABLE_BY_NAME, TableSpec
from riskmodel.ledger.tables import Ledger

Format = Literal["csv", "parquet"]
_ARROW_TYPES = {"string": pa.string(), "date": pa.date32(), "float": pa.float64(), "int": pa.int64()}


def to_arrow(frame: pd.DataFrame | pa.Table, spec: TableSpec) -> pa.Table:
    """A table with the schema's columns cast to their canonical types (extra columns kept)."""
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    for column in spec.columns:
        if column.name not in table.column_names:
            continue
        index = table.column_names.index(column.name)
        values = table.column(index)
        if pa.types.is_timestamp(values.type) and column.kind == "date":
            values = values.cast(pa.timestamp("s")).cast(pa.date32())
        table = table.set_column(index, column.name, values.cast(_ARROW_TYPES[column.kind]))
    return table


def write_tables(
    tables: Mapping[str, pd.DataFrame | pa.Table], out_dir: str | Path, fmt: Format = "csv"
) -> list[Path]:
    """Write each table as ``<name>.csv`` or ``<name>.parquet`` in ``out_dir`` (created if needed).

    A file of the other format with the same table name is removed, so the folder never
    holds both (the loader refuses that).
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        table = to_arrow(frame, TABLE_BY_NAME[name])
        path = folder / f"{name}.{fmt}"
        other = folder / f"{name}.{'parquet' if fmt == 'csv' else 'csv'}"
        other.unlink(missing_ok=True)
        if fmt == "csv":
            pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
        else:
            pq.write_table(table, path, compression="zstd")
        written.append(path)
    return written


def write_ledger(ledger: Ledger, out_dir: str | Path, fmt: Format = "csv") -> list[Path]:
    """Write a loaded ledger's accepted rows (stand-in payments excluded) to a folder."""
    return write_tables(_ledger_tables(ledger), out_dir, fmt)


def write_tables_sql(
    tables: Mapping[str, pd.DataFrame | pa.Table], url: str, if_exists: Literal["fail", "replace"] = "fail"
) -> None:
    """Write tables into a SQL database (one SQL table per ledger table); dates as SQL DATE."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for name, frame in tables.items():
                table = to_arrow(frame, TABLE_BY_NAME[name])
                table.to_pandas(date_as_object=True).to_sql(
                    name, connection, if_exists=if_exists, index=False, chunksize=10_000
                )
    finally:
        engine.dispose()


def _ledger_tables(ledger: Ledger) -> dict[str, pa.Table]:
    tables = {"customers": ledger.customers, "invoices": ledger.invoices}
    if ledger.has_payments:
        payments = ledger.payments
        real = pa.compute.invert(pa.compute.starts_with(payments["payment_id"], "settled:"))
        tables["payments"] = payments.filter(real).drop_columns(["customer_id"])
    tables["events"] = ledger.events
    if ledger.has_customer_history:
        tables["customer_history"] = ledger.customer_history
    return tables
