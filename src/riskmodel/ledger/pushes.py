"""Rows pushed into a ledger after it was written (``POST /ledger``, ``riskmodel push``).

A push is a batch of rows per table. Each row is new (added), already held with the same
values (unchanged: re-sending is safe), an invoice whose ``settled_date``, ``dispute_date``
or ``written_off_date`` changed (updated), or a conflict (any other difference from the
row held under the same key: refused with 409). The ledger with the batch applied is
validated with the ledger rules; a batch with any rejected row, or a row dated after
today, is refused whole (422) and nothing is written.

Accepted rows are kept in a journal next to the ledger, committed before the push is
answered: ``pushed_rows.sqlite`` in a ledger folder, the table ``riskmodel_pushed_rows``
in a ledger database. :func:`~riskmodel.ledger.load_ledger` replays the journal on top of
the source tables, so every command reading that ledger sees the pushed rows.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.exceptions import LedgerError
from riskmodel.ledger.read import ROW, RawTable, is_url
from riskmodel.ledger.schema import TABLE_BY_NAME, TABLE_NAMES, TableSpec
from riskmodel.locks import machine_lock

JOURNAL_FILE = "pushed_rows.sqlite"
JOURNAL_TABLE = "riskmodel_pushed_rows"
UPDATABLE: dict[str, tuple[str, ...]] = {"invoices": ("settled_date", "dispute_date", "written_off_date")}
"""Fields a push may change on a row already held (DESIGN.md, ``POST /ledger``)."""
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Row = dict[str, str | None]


class PushRefused(LedgerError):
    """A push refused whole: ``status`` 409 (conflict with a held row) or 422 (a row breaks a rule).

    ``problems`` has one entry per offending row: ``table``, ``row`` (index in the pushed
    table), ``column`` and ``reason``.
    """

    def __init__(self, status: int, problems: list[dict[str, Any]]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"{first['table']} row {first['row']}, {first['column']}: {first['reason']}{more}; nothing was written"
        )
        self.status = status
        self.problems = problems


@dataclass(frozen=True)
class Change:
    """One row a push adds, or an update of a held row's updatable fields."""

    table: str
    op: str  # "add" or "update"
    row: Row
    index: int  # position in the pushed table, for messages


@dataclass(frozen=True)
class PushOutcome:
    """What a push did, per table."""

    added: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    seen_from: dict[str, date] = field(default_factory=dict)  # customers whose rows changed: first day seen

    @property
    def customers(self) -> frozenset[str]:
        """Customers whose rows changed."""
        return frozenset(self.seen_from)

    @property
    def changed(self) -> bool:
        return bool(sum(self.added.values()) + sum(self.updated.values()))


# -- rows as text ---------------------------------------------------------------------------
def _text(value: Any) -> str | None:
    """A pushed value as the text a CSV file would hold (None: empty)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("true/false is not a ledger value")
    if isinstance(value, float) and not math.isfinite(value):
        raise TypeError(f"{value} is not a finite number")
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text or None
    raise TypeError(f"a {type(value).__name__} is not a ledger value; send text or a number")


def _comparable(value: str | None, kind: str) -> Any:
    """A text value in the form it is compared with a held row (None when it does not parse: compared as text)."""
    if value is None:
        return None
    try:
        if kind == "date":
            return date.fromisoformat(value) if _ISO_DATE.match(value) else value
        if kind in ("float", "int"):
            return float(value)
    except ValueError:
        return value
    return value


def text_table(table: pa.Table, spec: TableSpec) -> pa.Table:
    """``table`` with every schema column as text (dates ISO, numbers as read), then its other columns as text."""
    columns = {}
    for name in [
        *spec.column_names,
        *(n for n in table.column_names if n not in spec.column_names and n != ROW),
    ]:
        if name in table.column_names:
            values = table[name]
            if (
                pa.types.is_timestamp(values.type)
                and name in spec.column_names
                and spec.column(name).kind == "date"
            ):
                with contextlib.suppress(
                    pa.ArrowInvalid
                ):  # a time of day is left in, for the rules to refuse
                    values = pc.cast(values, pa.date32())
            columns[name] = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
        else:
            columns[name] = pa.nulls(table.num_rows, pa.string())
    return pa.table(columns)


# -- classification -----------------------------------------------------------------------------
def classify(
    held: Mapping[str, pa.Table], batch: Mapping[str, Sequence[Mapping[str, Any]]]
) -> tuple[list[Change], PushOutcome]:
    """Sort the pushed rows into added, updated and unchanged against the ``held`` (typed) tables.

    Raises
    ------
    PushRefused
        422 for an unknown table or column, a value that is not text or a number, or a key
        repeated within the batch; 409 for a row that differs from the held one in a field a
        push may not change.
    """
    unknown = sorted(set(batch) - set(TABLE_NAMES))
    if unknown:
        raise PushRefused(
            422,
            [
                {
                    "table": unknown[0],
                    "row": None,
                    "column": None,
                    "reason": f"unknown table; send rows of {', '.join(TABLE_NAMES)}",
                }
            ],
        )
    changes: list[Change] = []
    outcome = PushOutcome()
    conflicts: list[dict[str, Any]] = []
    for name in TABLE_NAMES:  # parents first: a batch may add a customer and its invoices
        rows = batch.get(name) or []
        spec = TABLE_BY_NAME[name]
        parsed = [_parse_row(spec, i, row) for i, row in enumerate(rows)]
        index = _held_index(held[name], spec, parsed) if parsed else {}
        seen: dict[tuple, int] = {}
        added = updated = unchanged = 0
        for i, row in enumerate(parsed):
            key = _key(spec, row)
            if key in seen:
                raise PushRefused(
                    422,
                    [
                        {
                            "table": name,
                            "row": i,
                            "column": spec.key_columns[-1] if spec.key_columns else None,
                            "reason": f"repeats row {seen[key]} of this batch; send each row once",
                        }
                    ],
                )
            seen[key] = i
            before = index.get(key)
            if before is None:
                changes.append(Change(name, "add", row, i))
                added += 1
                continue
            updatable = UPDATABLE.get(name, ())
            differs = [
                c.name
                for c in spec.columns
                if _comparable(row[c.name], c.kind) != _comparable(before[c.name], c.kind)
                and not (c.name in updatable and row[c.name] is None)  # not sent: left as held
            ]
            if not differs:
                unchanged += 1
            elif set(differs) <= set(updatable):
                changes.append(Change(name, "update", row, i))
                updated += 1
            else:
                held_values = ", ".join(f"{c} {before[c]!r} (sent {row[c]!r})" for c in differs)
                conflicts.append(
                    {
                        "table": name,
                        "row": i,
                        "column": differs[0],
                        "reason": f"{'/'.join(spec.key_columns) or 'an identical row'} {', '.join(str(k) for k in key)} "
                        f"is held with {held_values}; only {', '.join(updatable) or 'nothing'} "
                        "may change on a held row",
                    }
                )
        outcome.added[name], outcome.updated[name], outcome.unchanged[name] = added, updated, unchanged
    if conflicts:
        raise PushRefused(409, conflicts)
    return changes, outcome


def _parse_row(spec: TableSpec, i: int, row: Mapping[str, Any]) -> Row:
    if not isinstance(row, Mapping):
        raise PushRefused(
            422, [{"table": spec.name, "row": i, "column": None, "reason": "a row must be a JSON object"}]
        )
    unknown = sorted(set(row) - set(spec.column_names))
    if unknown:
        raise PushRefused(
            422,
            [
                {
                    "table": spec.name,
                    "row": i,
                    "column": unknown[0],
                    "reason": f"not a column of {spec.name}; columns are {', '.join(spec.column_names)}",
                }
            ],
        )
    parsed: Row = {}
    for column in spec.column_names:
        try:
            parsed[column] = _text(row.get(column))
        except TypeError as err:
            raise PushRefused(
                422, [{"table": spec.name, "row": i, "column": column, "reason": str(err)}]
            ) from err
    return parsed


def _key(spec: TableSpec, row: Mapping[str, Any]) -> tuple:
    columns = spec.key_columns or tuple(spec.column_names)  # events: the whole row
    return tuple(_comparable(row.get(c), spec.column(c).kind) for c in columns)


def _held_index(table: pa.Table, spec: TableSpec, pushed: Sequence[Row]) -> dict[tuple, Row]:
    """The held rows that share a key with a pushed row (for events: rows of the same customers), as text, by key."""
    column = (spec.key_columns or ("customer_id",))[0]
    wanted = pa.array(sorted({row[column] for row in pushed if row[column] is not None}), pa.string())
    table = table.filter(pc.is_in(pc.cast(table[column], pa.string()), value_set=wanted))
    text = text_table(table, spec)
    columns = {c: text[c].to_pylist() for c in spec.column_names}
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    return {_key(spec, row): row for row in rows}


# -- applying rows to raw tables --------------------------------------------------------------------
def apply_changes(
    raw: Mapping[str, RawTable], changes: Sequence[Change]
) -> tuple[dict[str, RawTable], dict[str, dict[int, Change]]]:
    """The raw tables as text with ``changes`` applied: updates in place, added rows at the end.

    Returns the tables and, per table, the change that produced each row number touched
    (so that a rejected row can be traced to the pushed row behind it).
    """
    tables: dict[str, RawTable] = {}
    traced: dict[str, dict[int, Change]] = {}
    for name in TABLE_NAMES:
        spec = TABLE_BY_NAME[name]
        mine = [c for c in changes if c.table == name]
        if name not in raw and not mine:
            continue
        base = raw.get(name)
        data = text_table(base.data, spec) if base is not None else text_table(pa.table({}), spec)
        numbers = base.data[ROW].to_numpy() if base is not None else np.zeros(0, dtype=np.int64)
        trace: dict[int, Change] = {}
        malformed = base.malformed if base is not None else ()
        adds = [c for c in mine if c.op == "add"]
        if adds:
            start = max(int(numbers.max()) if len(numbers) else 0, *(m.row for m in malformed), 0) + 1
            added = pa.table(
                {c: pa.array([a.row.get(c) for a in adds], pa.string()) for c in data.column_names}
            )
            data = pa.concat_tables([data, added])
            new_numbers = np.arange(start, start + len(adds), dtype=np.int64)
            numbers = np.concatenate([numbers, new_numbers])
            trace |= dict(zip(new_numbers.tolist(), adds, strict=True))
        updates = _last_update_per_key(spec, [c for c in mine if c.op == "update"])
        if updates:
            data, updated = _update(data, spec, numbers, updates)
            trace |= updated
        file = base.file if base is not None else f"{name} (pushed)"
        tables[name] = RawTable(
            spec, file, data.append_column(ROW, pa.array(numbers, pa.int64())), True, malformed
        )
        traced[name] = trace
    return tables, traced


def _last_update_per_key(spec: TableSpec, updates: Sequence[Change]) -> list[Change]:
    """One update per key, in push order: later pushes' fields over earlier ones (fields not sent stay)."""
    if not updates:
        return []
    key = spec.key_columns[0]
    merged: dict[str | None, Change] = {}
    for change in updates:
        earlier = merged.get(change.row[key])
        row = dict(change.row)
        if earlier is not None:
            row |= {c: earlier.row[c] for c in UPDATABLE[spec.name] if row.get(c) is None}
        merged[change.row[key]] = Change(change.table, change.op, row, change.index)
    return list(merged.values())


def _update(
    data: pa.Table, spec: TableSpec, numbers: np.ndarray, updates: Sequence[Change]
) -> tuple[pa.Table, dict[int, Change]]:
    key = spec.key_columns[0]
    keys = [u.row[key] for u in updates]
    position = pc.index_in(pc.utf8_trim_whitespace(data[key]), value_set=pa.array(keys, pa.string()))
    rows = np.nonzero(~pc.is_null(position).to_numpy(zero_copy_only=False))[0]
    which = position.to_numpy(zero_copy_only=False)[rows].astype(int)
    if len(set(which.tolist())) < len(keys):
        missing = sorted(set(keys) - {keys[w] for w in which})
        raise LedgerError(
            f"{spec.name}: pushed updates of {', '.join(missing)} name no row held; the ledger changed under the journal"
        )
    for column in UPDATABLE[spec.name]:
        values = np.array(data[column].to_pylist(), dtype=object)
        for r, w in zip(rows, which, strict=True):
            if updates[w].row.get(column) is not None:  # a field not sent keeps its value
                values[r] = updates[w].row[column]
        data = data.set_column(
            data.column_names.index(column), column, pa.array(values.tolist(), pa.string())
        )
    return data, {int(numbers[r]): updates[w] for r, w in zip(rows, which, strict=True)}


# -- the journal ----------------------------------------------------------------------------
def journal_url(source: str | Path) -> str:
    """Where a ledger's pushed rows are kept: a SQLite file in a folder, or the ledger's own database."""
    if is_url(source):
        return str(source)
    return f"sqlite:///{Path(source).resolve() / JOURNAL_FILE}"


def journal_stamp(source: str | Path) -> object:
    """Something that changes whenever rows are pushed into this ledger (a file's size and time; a database's last entry)."""
    if is_url(source):
        return journal_version(source)
    try:
        stat = (Path(source) / JOURNAL_FILE).stat()
    except FileNotFoundError:
        return None
    return (stat.st_size, stat.st_mtime_ns)


def push_lock(source: str | Path) -> contextlib.AbstractContextManager[None]:
    """Held while one process checks and writes a push, so pushes through several workers of a machine queue up."""
    return machine_lock("push", str(source))


def journal_version(source: str | Path) -> int | None:
    """The last journal sequence number (None when nothing was pushed)."""
    if not is_url(source) and not (Path(source) / JOURNAL_FILE).is_file():
        return None
    return _journal_version(journal_url(source))


@functools.lru_cache(maxsize=8)
def _engine(url: str) -> Any:
    """One SQLAlchemy engine per journal (the service checks it per request)."""
    import sqlalchemy as sa

    return sa.create_engine(url)


def _journal_version(url: str) -> int | None:
    import sqlalchemy as sa

    with _engine(url).connect() as connection:
        if not sa.inspect(connection).has_table(JOURNAL_TABLE):
            return None
        return connection.execute(sa.text(f"SELECT max(seq) FROM {JOURNAL_TABLE}")).scalar()


def read_journal(source: str | Path, after: int = 0) -> list[Change]:
    """The changes pushed into this ledger (those after sequence number ``after``), in the order they were accepted."""
    import sqlalchemy as sa

    if journal_version(source) is None:
        return []
    with _engine(journal_url(source)).connect() as connection:
        rows = connection.execute(
            sa.text(
                f"SELECT seq, table_name, op, row_json FROM {JOURNAL_TABLE} WHERE seq > :after ORDER BY seq"
            ),
            {"after": after},
        ).fetchall()
    return [Change(table, op, json.loads(row), seq) for seq, table, op, row in rows]


def write_journal(source: str | Path, changes: Sequence[Change]) -> int:
    """Append ``changes`` in one transaction, durable when this returns; the new journal version."""
    import sqlalchemy as sa

    pushed_at = datetime.now(UTC).isoformat(timespec="seconds")
    with _engine(journal_url(source)).begin() as connection:
        connection.execute(
            sa.text(
                f"CREATE TABLE IF NOT EXISTS {JOURNAL_TABLE} (seq INTEGER PRIMARY KEY, pushed_at TEXT NOT NULL, "
                "table_name TEXT NOT NULL, op TEXT NOT NULL, row_json TEXT NOT NULL)"
            )
        )
        last = connection.execute(sa.text(f"SELECT coalesce(max(seq), 0) FROM {JOURNAL_TABLE}")).scalar()
        connection.execute(
            sa.text(
                f"INSERT INTO {JOURNAL_TABLE} (seq, pushed_at, table_name, op, row_json) "
                "VALUES (:seq, :pushed_at, :table_name, :op, :row_json)"
            ),
            [
                {
                    "seq": last + i + 1,
                    "pushed_at": pushed_at,
                    "table_name": c.table,
                    "op": c.op,
                    "row_json": json.dumps(c.row),
                }
                for i, c in enumerate(changes)
            ],
        )
        return int(last + len(changes))
