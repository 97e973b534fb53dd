"""Read the raw tables of a ledger from a folder (CSV or Parquet) or a SQL database.

Reading only: values stay as the source gave them (all text for CSV). Typing and the
row rules live in :mod:`riskmodel.ledger.validate`. Problems that make a table
unusable (missing file or column, empty file, wrong encoding, no header row) raise
:class:`~riskmodel.exceptions.LedgerError`; rows with the wrong number of fields are
returned as malformed rows so that they reach the quarantine.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from riskmodel.exceptions import LedgerError
from riskmodel.ledger.schema import TABLE_NAMES, TABLES, TableSpec

ROW = "__row"
_ROW_NOUN = {"customer_history": "dated change of a customer's facts"}
_LOOKS_LIKE_DATA = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}|-?\d+(\.\d+)?)\s*$")


@dataclass(frozen=True)
class MalformedRow:
    """A CSV row that could not be split into the header's columns."""

    row: int
    reason: str
    text: str


@dataclass(frozen=True)
class RawTable:
    """One table as read, with its source row number in column ``__row``.

    Row numbers count as a spreadsheet does for CSV (header = row 1, first record =
    row 2); for Parquet and SQL the first record is row 1.
    """

    spec: TableSpec
    file: str
    data: pa.Table
    is_text: bool
    malformed: tuple[MalformedRow, ...] = field(default=())

    @property
    def n_read(self) -> int:
        return self.data.num_rows + len(self.malformed)


def is_url(source: str | Path) -> bool:
    """Whether ``source`` is an SQLAlchemy URL rather than a folder."""
    return "://" in str(source)


def read_raw_tables(source: str | Path) -> dict[str, RawTable]:
    """Read every ledger table present at ``source`` (folder or SQLAlchemy URL)."""
    if is_url(source):
        return _read_sql(str(source))
    return _read_folder(Path(source))


def _read_folder(folder: Path) -> dict[str, RawTable]:
    if not folder.is_dir():
        raise LedgerError(
            f"ledger folder {folder} does not exist; pass a folder holding customers.csv and invoices.csv (or .parquet)"
        )
    tables: dict[str, RawTable] = {}
    for spec in TABLES:
        found = [
            folder / f"{spec.name}.{ext}"
            for ext in ("csv", "parquet")
            if (folder / f"{spec.name}.{ext}").is_file()
        ]
        if len(found) > 1:
            raise LedgerError(f"{folder} has both {spec.name}.csv and {spec.name}.parquet; keep one of them")
        if not found:
            if spec.required:
                raise LedgerError(
                    f"{folder} has no {spec.name}.csv or {spec.name}.parquet; the {spec.name} table is required "
                    f"(columns: {', '.join(spec.required_columns)})"
                )
            continue
        path = found[0]
        raw = _read_csv(spec, path) if path.suffix == ".csv" else _read_parquet(spec, path)
        tables[spec.name] = raw
    return tables


def raw_tables_from_frames(frames: Mapping[str, pd.DataFrame | pa.Table]) -> dict[str, RawTable]:
    """Wrap in-memory tables (e.g. an inline history sent to the service) as raw tables."""
    unknown = sorted(set(frames) - {spec.name for spec in TABLES})
    if unknown:
        raise LedgerError(f"unknown ledger table(s) {', '.join(unknown)}; expected {', '.join(TABLE_NAMES)}")
    tables: dict[str, RawTable] = {}
    for spec in TABLES:
        if spec.name not in frames:
            if spec.required:
                raise LedgerError(
                    f"the {spec.name} table is required (columns: {', '.join(spec.required_columns)})"
                )
            continue
        tables[spec.name] = _typed_raw_table(spec, spec.name, frames[spec.name])
    return tables


def _typed_raw_table(spec: TableSpec, file: str, frame: pd.DataFrame | pa.Table) -> RawTable:
    """A table whose values come typed by their source (DataFrame, SQL), rows numbered from 1."""
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    table = _normalise_names(table)
    _check_columns(spec, file, table.column_names)
    return RawTable(spec, file, _with_row_numbers(table, range(1, table.num_rows + 1)), is_text=False)


def _normalise_names(table: pa.Table) -> pa.Table:
    return table.rename_columns([str(name).strip().lower() for name in table.column_names])


def _with_row_numbers(table: pa.Table, numbers: list[int] | range) -> pa.Table:
    if isinstance(numbers, range):
        values = np.arange(numbers.start, numbers.stop, numbers.step, dtype=np.int64)
    else:
        values = np.asarray(numbers, dtype=np.int64)
    return table.append_column(ROW, pa.array(values))


def _read_csv(spec: TableSpec, path: Path) -> RawTable:
    if path.stat().st_size == 0:
        raise LedgerError(
            f"{path.name} is empty; it needs a header line ({','.join(spec.required_columns)}) and one row per {_ROW_NOUN.get(spec.name, spec.name[:-1])}"
        )
    header = _read_header(path)
    column_types = {name: pa.string() for name in header}
    table, malformed = _parse_csv(path, column_types, use_threads=True)
    if malformed:  # row numbers of bad rows are only known when parsing on one thread
        table, malformed = _parse_csv(path, column_types, use_threads=False)
    table = _normalise_names(table)
    _check_columns(spec, path.name, table.column_names, header_line=",".join(header).strip())
    bad_rows = {m.row for m in malformed}
    total = table.num_rows + len(malformed)
    numbers = [n for n in range(2, total + 2) if n not in bad_rows] if bad_rows else range(2, total + 2)
    return RawTable(
        spec, path.name, _with_row_numbers(table, numbers), is_text=True, malformed=tuple(malformed)
    )


def _read_header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise LedgerError(_encoding_message(path.name)) from err
    if not text.strip():
        raise LedgerError(f"{path.name}: the first line is blank; it must be the header line")
    return next(csv.reader([text.rstrip("\r\n")]))


def _encoding_message(name: str) -> str:
    return f"{name} is not UTF-8 text; save it as UTF-8 (in Excel: 'CSV UTF-8 (comma delimited)') and load it again"


def _parse_csv(
    path: Path, column_types: dict[str, pa.DataType], use_threads: bool
) -> tuple[pa.Table, list[MalformedRow]]:
    malformed: list[MalformedRow] = []

    def keep_aside(row: pacsv.InvalidRow) -> str:
        reason = (
            f"row has {row.actual_columns} fields but the header has {row.expected_columns}; "
            "check for a missing or extra comma (quote values that contain commas)"
        )
        malformed.append(
            MalformedRow(row=row.number if row.number is not None else -1, reason=reason, text=row.text)
        )
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=use_threads),
            parse_options=pacsv.ParseOptions(invalid_row_handler=keep_aside),
            convert_options=pacsv.ConvertOptions(column_types=column_types, strings_can_be_null=False),
        )
    except pa.ArrowInvalid as err:
        if "UTF8" in str(err) or "UTF-8" in str(err):
            raise LedgerError(_encoding_message(path.name)) from err
        raise LedgerError(
            f"{path.name} could not be read as CSV: {err}; check that it is comma-separated with one header line"
        ) from err
    return table, malformed


def _read_parquet(spec: TableSpec, path: Path) -> RawTable:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise LedgerError(
            f"{path.name} is not a readable Parquet file ({err}); write it again or provide {spec.name}.csv"
        ) from err
    table = _normalise_names(table)
    _check_columns(spec, path.name, table.column_names)
    return RawTable(spec, path.name, _with_row_numbers(table, range(1, table.num_rows + 1)), is_text=False)


def _check_columns(spec: TableSpec, file: str, columns: list[str], header_line: str | None = None) -> None:
    missing = [c for c in spec.required_columns if c not in columns]
    if not missing:
        return
    if (
        header_line is not None
        and not set(columns) & set(spec.column_names)
        and any(_LOOKS_LIKE_DATA.match(c) for c in columns)
    ):
        raise LedgerError(
            f"{file}: the first line '{header_line[:80]}' looks like data, not a header; "
            f"add a header line naming the columns, e.g. {','.join(spec.required_columns)}"
        )
    raise LedgerError(
        f"{file} is missing required column(s) {', '.join(missing)}; found {', '.join(columns) or 'none'}. "
        f"Add the column(s) or rename the matching ones (names are case-insensitive)"
    )


def _read_sql(url: str) -> dict[str, RawTable]:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ModuleNotFoundError) as err:
        raise LedgerError(
            f"cannot open the database URL '{url.split('@')[-1]}' ({err}); use a folder path or a URL like sqlite:///ledger.db"
        ) from err
    try:
        with engine.connect() as connection:
            present = set(sa.inspect(connection).get_table_names())
            tables: dict[str, RawTable] = {}
            for spec in TABLES:
                if spec.name not in present:
                    if spec.required:
                        raise LedgerError(
                            f"database {engine.url.render_as_string(hide_password=True)} has no table '{spec.name}'; it is required"
                        )
                    continue
                tables[spec.name] = _typed_raw_table(
                    spec, f"{spec.name} table", pd.read_sql_table(spec.name, connection)
                )
    except sa.exc.SQLAlchemyError as err:
        raise LedgerError(
            f"could not read the ledger from {url.split('@')[-1]}: {err.__class__.__name__}: {err}"
        ) from err
    finally:
        engine.dispose()
    return tables
