"""Row rules of the ledger contract, run in DuckDB so that millions of rows validate in seconds.

Every input row ends up either accepted (typed) or rejected with the columns and the
reasons, and counts reconcile: ``read == accepted + rejected`` per table.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from riskmodel.ledger.read import ROW, RawTable
from riskmodel.ledger.schema import EVENT_TYPES, ColumnSpec, TableSpec
from riskmodel.ledger.tables import QUARANTINE_COLUMNS, TableReport

_SQL_TYPES = {"string": "VARCHAR", "date": "DATE", "float": "DOUBLE", "int": "BIGINT"}
_DATE_RANGE = ("1900-01-01", "2100-12-31")
OVERPAYMENT_TOLERANCE = 0.005
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"


@dataclass(frozen=True)
class Rule:
    """A row rule: rows where ``condition`` is true are rejected with ``reason`` (SQL text expressions)."""

    column: str
    condition: str
    reason: str


def q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _raw(name: str) -> str:
    return q(f"__raw_{name}")


def _show(expr: str) -> str:
    """SQL that renders a value for a message, quoted."""
    return f"'''' || CAST({expr} AS VARCHAR) || ''''"


def _reads_as_text(column: ColumnSpec, arrow_type: pa.DataType | None, is_text: bool) -> bool:
    """Whether the column is parsed from text: CSV, an absent column, or a source type that is not the column's."""
    return is_text or arrow_type is None or not _is_native(column, arrow_type)


def _source_expr(column: ColumnSpec, arrow_type: pa.DataType | None, is_text: bool) -> str:
    """The column as read: trimmed text (empty -> NULL) or the source's native value."""
    if arrow_type is None:
        return "CAST(NULL AS VARCHAR)"
    name = q(column.name)
    if column.kind != "string" and not _reads_as_text(column, arrow_type, is_text):
        return name
    return f"NULLIF(TRIM(CAST({name} AS VARCHAR)), '')"


def _typed_expr(column: ColumnSpec, source_is_text: bool) -> str:
    raw = _raw(column.name)
    if not source_is_text:
        return f"CAST({raw} AS {_SQL_TYPES[column.kind]})"
    if column.kind == "string":
        return raw
    if column.kind == "date":
        return f"CASE WHEN regexp_full_match({raw}, '{_ISO_DATE}') THEN CAST(TRY_STRPTIME({raw}, '%Y-%m-%d') AS DATE) END"
    number = f"TRY_CAST({raw} AS DOUBLE)"
    finite = f"CASE WHEN isfinite({number}) THEN {number} END"
    if column.kind == "float":
        return finite
    return f"CASE WHEN {finite} = floor({finite}) AND abs({finite}) < 1e15 THEN CAST({finite} AS BIGINT) END"


_PARSE_HINT = {
    "date": "is not a date in YYYY-MM-DD form; write it like 2024-03-31",
    "float": "is not a number; write plain numbers like 1234.50 (no thousands separators or currency signs)",
    "int": "is not a whole number; write it like 30",
}


def column_rules(column: ColumnSpec) -> list[Rule]:
    """Rules that concern one column alone: presence, type, range."""
    name, raw, typed = column.name, _raw(column.name), q(column.name)
    rules: list[Rule] = []
    if column.required:
        rules.append(Rule(name, f"{raw} IS NULL", f"'{name} is empty; it is required'"))
    if column.kind == "date":
        hint = f"CASE WHEN regexp_full_match(CAST({raw} AS VARCHAR), '{_ISO_DATE}') THEN ' is not a calendar date; check the day and month' ELSE ' {_PARSE_HINT['date']}' END"
        rules.append(Rule(name, f"{raw} IS NOT NULL AND {typed} IS NULL", f"'{name} ' || {_show(raw)} || {hint}"))
    elif column.kind != "string":
        rules.append(Rule(name, f"{raw} IS NOT NULL AND {typed} IS NULL", f"'{name} ' || {_show(raw)} || ' {_PARSE_HINT[column.kind]}'"))
    if column.kind == "date":
        low, high = _DATE_RANGE
        rules.append(
            Rule(name, f"{typed} NOT BETWEEN DATE '{low}' AND DATE '{high}'", f"'{name} ' || {_show(typed)} || ' is out of range ({low} to {high}); check the year'")
        )
    if column.strictly_positive:
        rules.append(Rule(name, f"{typed} <= 0", f"'{name} ' || {_show(raw)} || ' must be greater than 0; credit notes and refunds are not invoices'"))
    elif column.minimum is not None:
        rules.append(Rule(name, f"{typed} < {column.minimum}", f"'{name} ' || {_show(raw)} || ' must be at least {column.minimum:g}'"))
    return rules


def table_rules(spec: TableSpec, present: set[str]) -> list[Rule]:
    """Rules across the columns of one row (dates in order, allowed values)."""
    rules: list[Rule] = []
    if spec.name == "invoices":
        rules.append(
            Rule(
                "due_date",
                "due_date < issue_date",
                "'due_date ' || due_date || ' is before issue_date ' || issue_date || '; fix the dates or drop the row'",
            )
        )
        for column, what in (("settled_date", "settled"), ("dispute_date", "disputed"), ("written_off_date", "written off")):
            if column in present:
                rules.append(
                    Rule(column, f"{column} < issue_date", f"'{column} ' || {column} || ' is before issue_date ' || issue_date || '; an invoice cannot be {what} before it is issued'")
                )
    if spec.name == "events":
        allowed = ", ".join(f"'{t}'" for t in EVENT_TYPES)
        rules.append(Rule("type", f"lower(type) NOT IN ({allowed})", f"'type ' || {_show('type')} || ' is not one of {', '.join(EVENT_TYPES)}'"))
    return rules


def key_rules(spec: TableSpec) -> list[Rule]:
    """Unique keys: identical repeats keep their first row; conflicting repeats are all rejected."""
    if spec.key is None:
        return []
    key = q(spec.key)
    return [
        Rule(spec.key, "__n_key > 1 AND __n_same = __n_key AND __rank > 1", f"'duplicate of row ' || __first_row || ' ({spec.key} ' || {key} || '); remove the repeated row'"),
        Rule(
            spec.key,
            "__n_key > 1 AND __n_same < __n_key",
            f"'{spec.key} ' || {key} || ' appears ' || __n_key || ' times with different values (first at row ' || __first_row || '); keep one of them'",
        ),
    ]


def reference_rules(spec: TableSpec) -> tuple[str, list[Rule]]:
    """Joins to already accepted parent tables and the rules that use them."""
    if spec.name in ("invoices", "events"):
        join = "LEFT JOIN (SELECT customer_id AS __parent FROM accepted_customers) p ON p.__parent = t.customer_id"
        rule = Rule("customer_id", "t.customer_id IS NOT NULL AND p.__parent IS NULL", f"'customer_id ' || {_show('t.customer_id')} || ' is not among the accepted customers (missing from or rejected in the customers table); add the customer or fix the id'")
        return join, [rule]
    if spec.name == "payments":
        join = "LEFT JOIN (SELECT invoice_id AS __parent, issue_date AS __issue_date FROM accepted_invoices) p ON p.__parent = t.invoice_id"
        return join, [
            Rule("invoice_id", "t.invoice_id IS NOT NULL AND p.__parent IS NULL", f"'invoice_id ' || {_show('t.invoice_id')} || ' is not among the accepted invoices (missing from or rejected in the invoices table); fix the id or add the invoice'"),
            Rule("payment_date", "t.payment_date < p.__issue_date", "'payment_date ' || t.payment_date || ' is before the invoice''s issue_date ' || p.__issue_date || '; fix the date'"),
        ]
    return "", []


def _problems(rules: list[Rule]) -> tuple[str, str]:
    columns = ", ".join(f"CASE WHEN coalesce({r.condition}, false) THEN '{r.column}' END" for r in rules)
    reasons = ", ".join(f"CASE WHEN coalesce({r.condition}, false) THEN {r.reason} END" for r in rules)
    return f"concat_ws(';', {columns})", f"concat_ws('; ', {reasons})"


def validate_table(con: duckdb.DuckDBPyConnection, raw: RawTable) -> tuple[pa.Table, pd.DataFrame, TableReport]:
    """Type and check one table; accepted rows also land in DuckDB as ``accepted_<name>``."""
    spec, data = raw.spec, raw.data
    source_name = f"source_{spec.name}"
    con.register(source_name, data)
    schema = {f.name: f.type for f in data.schema}
    present = {c.name for c in spec.columns if c.name in schema}
    extras = [n for n in data.column_names if n not in {c.name for c in spec.columns} and n != ROW]
    as_read = ", ".join(f"{_source_expr(c, schema.get(c.name), raw.is_text)} AS {_raw(c.name)}" for c in spec.columns)
    typed = ", ".join(f"{_typed_expr(c, _reads_as_text(c, schema.get(c.name), raw.is_text))} AS {q(c.name)}" for c in spec.columns)
    extra_sql = "".join(f", {q(n)}" for n in extras)
    raw_cols = ", ".join(_raw(c.name) for c in spec.columns)
    key_stats = f"SELECT {ROW}, NULL::BIGINT AS __n_key, NULL::BIGINT AS __n_same, NULL::BIGINT AS __first_row, NULL::BIGINT AS __rank FROM typed WHERE false"
    if spec.key:
        # Window functions only over keys that repeat: on millions of clean rows they would dominate the load.
        key = q(spec.key)
        key_stats = f"""
            SELECT {ROW}, count(*) OVER (PARTITION BY {key}) AS __n_key, count(*) OVER (PARTITION BY {raw_cols}) AS __n_same,
                   min({ROW}) OVER (PARTITION BY {key}) AS __first_row, row_number() OVER (PARTITION BY {key} ORDER BY {ROW}) AS __rank
            FROM typed WHERE {key} IN (SELECT {key} FROM typed WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1)"""
    join, ref_rules = reference_rules(spec)
    rules = [r for c in spec.columns for r in column_rules(c)] + table_rules(spec, present) + key_rules(spec) + ref_rules
    problem_columns, problem_reasons = _problems(rules)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE checked_{spec.name} AS
        WITH as_read AS (SELECT {ROW}, {as_read}{extra_sql} FROM {source_name}),
        typed AS MATERIALIZED (SELECT *, {typed} FROM as_read),
        key_stats AS ({key_stats}),
        counted AS (SELECT typed.*, key_stats.* EXCLUDE ({ROW}) FROM typed LEFT JOIN key_stats USING ({ROW}))
        SELECT t.*, {problem_columns} AS __columns, {problem_reasons} AS __reasons
        FROM counted t {join}
        """
    )
    if spec.name == "events":
        con.execute("UPDATE checked_events SET type = lower(type)")
    names = f"{ROW}, " + ", ".join(q(c.name) for c in spec.columns) + extra_sql
    con.execute(f"CREATE OR REPLACE TEMP TABLE accepted_{spec.name} AS SELECT {names} FROM checked_{spec.name} WHERE __columns = '' ORDER BY {ROW}")
    if spec.name == "payments":
        _reject_overpayments(con)
    rejected = _rejected_frame(con, raw, extras)
    accepted = con.sql(f"SELECT * FROM accepted_{spec.name}").to_arrow_table()
    con.unregister(source_name)
    report = TableReport(spec.name, raw.file, read=raw.n_read, accepted=accepted.num_rows, rejected=len(rejected))
    return accepted, rejected, report


def _is_native(column: ColumnSpec, arrow_type: pa.DataType) -> bool:
    if column.kind == "date":
        return pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type)
    if column.kind in ("float", "int"):
        return pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type)
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _reject_overpayments(con: duckdb.DuckDBPyConnection) -> None:
    """Payments that take an invoice's paid total above its amount are moved to the rejects.

    The running total is computed only for invoices whose payments exceed the amount.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE overpaid AS
        WITH over AS (
            SELECT c.invoice_id FROM checked_payments c JOIN accepted_invoices i USING (invoice_id)
            WHERE c.__columns = '' GROUP BY c.invoice_id, i.amount HAVING sum(c.amount) > i.amount + {OVERPAYMENT_TOLERANCE})
        SELECT c.{ROW}, sum(c.amount) OVER (PARTITION BY c.invoice_id ORDER BY c.payment_date, c.{ROW}
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS paid_total, i.amount AS invoice_amount
        FROM checked_payments c JOIN accepted_invoices i USING (invoice_id)
        WHERE c.__columns = '' AND c.invoice_id IN (SELECT invoice_id FROM over)
        QUALIFY paid_total > invoice_amount + {OVERPAYMENT_TOLERANCE}
        """
    )
    if con.execute("SELECT count(*) FROM overpaid").fetchone()[0] == 0:
        return
    con.execute(
        f"""
        UPDATE checked_payments c SET __columns = 'amount',
          __reasons = 'payments for invoice ''' || c.invoice_id || ''' reach ' || round(o.paid_total, 2) || ' with this row, above the invoice amount '
                      || round(o.invoice_amount, 2) || '; check the amount or the invoice_id (overpayment)'
        FROM overpaid o WHERE c.{ROW} = o.{ROW}
        """
    )
    con.execute(f"DELETE FROM accepted_payments WHERE {ROW} IN (SELECT {ROW} FROM overpaid)")


def _rejected_frame(con: duckdb.DuckDBPyConnection, raw: RawTable, extras: list[str]) -> pd.DataFrame:
    spec = raw.spec
    originals = ", ".join(f"CAST({_raw(c.name)} AS VARCHAR) AS {q(c.name)}" for c in spec.columns if c.name in raw.data.column_names)
    extra_sql = "".join(f", CAST({q(n)} AS VARCHAR) AS {q(n)}" for n in extras)
    frame = con.execute(
        f"SELECT '{raw.file}' AS file, {ROW} AS row, __columns AS column, __reasons AS reason, {originals}{extra_sql} "
        f"FROM checked_{spec.name} WHERE __columns <> '' ORDER BY {ROW}"
    ).df()
    if raw.malformed:
        malformed = pd.DataFrame(
            {"file": raw.file, "row": [m.row for m in raw.malformed], "column": "", "reason": [m.reason for m in raw.malformed], "record": [m.text for m in raw.malformed]}
        )
        frame = pd.concat([frame, malformed], ignore_index=True).sort_values("row", kind="stable", ignore_index=True)
    frame["row"] = frame["row"].astype("int64")
    assert list(frame.columns[: len(QUARANTINE_COLUMNS)]) == list(QUARANTINE_COLUMNS)
    return frame
