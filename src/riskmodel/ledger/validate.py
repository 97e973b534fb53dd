"""Row rules of the ledger contract, run in DuckDB so that millions of rows validate in seconds.

Every input row ends up either accepted (typed) or rejected with the columns and the
reasons, and counts reconcile: ``read == accepted + rejected`` per table.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.ledger.read import ROW, RawTable
from riskmodel.ledger.schema import DATED_FIELDS, EVENT_TYPES, ColumnSpec, TableSpec
from riskmodel.ledger.tables import QUARANTINE_COLUMNS, TableReport

_SQL_TYPES = {"string": "VARCHAR", "date": "DATE", "float": "DOUBLE", "int": "BIGINT"}
_ARROW_TYPES = {"string": pa.string(), "date": pa.date32(), "float": pa.float64(), "int": pa.int64()}
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


def column_rules(column: ColumnSpec, parsed: bool = True) -> list[Rule]:
    """Rules that concern one column alone: presence, type (when ``parsed`` from text), range."""
    name, raw, typed = column.name, _raw(column.name), q(column.name)
    rules: list[Rule] = []
    if column.required:
        rules.append(Rule(name, f"{raw} IS NULL", f"'{name} is empty; it is required'"))
    if not parsed:
        pass
    elif column.kind == "date":
        hint = f"CASE WHEN regexp_full_match(CAST({raw} AS VARCHAR), '{_ISO_DATE}') THEN ' is not a calendar date; check the day and month' ELSE ' {_PARSE_HINT['date']}' END"
        rules.append(
            Rule(name, f"{raw} IS NOT NULL AND {typed} IS NULL", f"'{name} ' || {_show(raw)} || {hint}")
        )
    elif column.kind != "string":
        rules.append(
            Rule(
                name,
                f"{raw} IS NOT NULL AND {typed} IS NULL",
                f"'{name} ' || {_show(raw)} || ' {_PARSE_HINT[column.kind]}'",
            )
        )
    if column.kind == "date":
        low, high = _DATE_RANGE
        rules.append(
            Rule(
                name,
                f"{typed} NOT BETWEEN DATE '{low}' AND DATE '{high}'",
                f"'{name} ' || {_show(typed)} || ' is out of range ({low} to {high}); check the year'",
            )
        )
    if column.strictly_positive:
        rules.append(
            Rule(
                name,
                f"{typed} <= 0",
                f"'{name} ' || {_show(raw)} || ' must be greater than 0; credit notes and refunds are not invoices'",
            )
        )
    elif column.minimum is not None:
        rules.append(
            Rule(
                name,
                f"{typed} < {column.minimum}",
                f"'{name} ' || {_show(raw)} || ' must be at least {column.minimum:g}'",
            )
        )
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
        for column, what in (
            ("settled_date", "settled"),
            ("dispute_date", "disputed"),
            ("written_off_date", "written off"),
        ):
            if column in present:
                rules.append(
                    Rule(
                        column,
                        f"{column} < issue_date",
                        f"'{column} ' || {column} || ' is before issue_date ' || issue_date || '; an invoice cannot be {what} before it is issued'",
                    )
                )
    if spec.name == "customer_history":
        facts = [c for c in DATED_FIELDS if c in present]
        empty = " AND ".join(f"{_raw(c)} IS NULL" for c in facts) or "true"
        rules.append(
            Rule(
                "date",
                empty,
                f"'the row gives no value; fill at least one of {', '.join(DATED_FIELDS)} or drop the row'",
            )
        )
    if spec.name == "events":
        allowed = ", ".join(f"'{t}'" for t in EVENT_TYPES)
        rules.append(
            Rule(
                "type",
                f"lower(type) NOT IN ({allowed})",
                f"'type ' || {_show('type')} || ' is not one of {', '.join(EVENT_TYPES)}'",
            )
        )
    return rules


def _key_text(spec: TableSpec, alias: str = "") -> str:
    """SQL rendering the key of a row for a message: ``I1`` or ``C1, 2024-01-31``."""
    return " || ', ' || ".join(f"CAST({alias}{q(c)} AS VARCHAR)" for c in spec.key_columns)


def key_rules(spec: TableSpec) -> list[Rule]:
    """Unique keys: identical repeats keep their first row; conflicting repeats are all rejected."""
    if spec.key is None:
        return []
    label, names = spec.key_columns[-1], ", ".join(spec.key_columns)
    key = _key_text(spec)
    return [
        Rule(
            label,
            "__n_key > 1 AND __n_same = __n_key AND __rank > 1",
            f"'duplicate of row ' || __first_row || ' ({names} ' || {key} || '); remove the repeated row'",
        ),
        Rule(
            label,
            "__n_key > 1 AND __n_same < __n_key",
            f"'{names} ' || {key} || ' appears ' || __n_key || ' times with different values (first at row ' || __first_row || '); keep one of them'",
        ),
    ]


def reference_rules(spec: TableSpec, matched: bool = False) -> tuple[str, list[Rule]]:
    """Joins to already accepted parent tables and the rules that use them.

    ``matched`` payments carry their invoice's place and issue date already (:func:`_matched`): no join.
    """
    if spec.name in ("invoices", "events", "customer_history"):
        join = "LEFT JOIN (SELECT customer_id AS __parent, onboarding_date AS __onboarded FROM accepted_customers) p ON p.__parent = t.customer_id"
        rules = [
            Rule(
                "customer_id",
                "t.customer_id IS NOT NULL AND p.__parent IS NULL",
                f"'customer_id ' || {_show('t.customer_id')} || ' is not among the accepted customers (missing from or rejected in the customers table); add the customer or fix the id'",
            )
        ]
        if spec.name == "customer_history":
            rules.append(
                Rule(
                    "date",
                    "t.date < p.__onboarded",
                    "'date ' || t.date || ' is before the customer''s onboarding_date ' || p.__onboarded || "
                    "'; the customers row holds the values at onboarding, date the change on or after it'",
                )
            )
        return join, rules
    if spec.name == "payments":
        join = "LEFT JOIN (SELECT invoice_id AS __parent, issue_date AS __issue_date FROM accepted_invoices) p ON p.__parent = t.invoice_id"
        unknown, issued = "p.__parent IS NULL", "p.__issue_date"
        if matched:
            join, unknown, issued = "", f"t.{INVOICE_PLACE} IS NULL", f"t.{ISSUE_DATE}"
        return join, [
            Rule(
                "invoice_id",
                f"t.invoice_id IS NOT NULL AND {unknown}",
                f"'invoice_id ' || {_show('t.invoice_id')} || ' is not among the accepted invoices (missing from or rejected in the invoices table); fix the id or add the invoice'",
            ),
            Rule(
                "payment_date",
                f"t.payment_date < {issued}",
                f"'payment_date ' || t.payment_date || ' is before the invoice''s issue_date ' || {issued} || '; fix the date'",
            ),
        ]
    return "", []


def _problems(rules: list[Rule]) -> tuple[str, str]:
    columns = ", ".join(f"CASE WHEN coalesce({r.condition}, false) THEN '{r.column}' END" for r in rules)
    reasons = ", ".join(f"CASE WHEN coalesce({r.condition}, false) THEN {r.reason} END" for r in rules)
    return f"concat_ws(';', {columns})", f"concat_ws('; ', {reasons})"


def _as_read_sql(raw: RawTable, source_name: str) -> str:
    """The source rows with each schema column as read (``__raw_<name>``) and the unknown extra columns."""
    schema = {f.name: f.type for f in raw.data.schema}
    as_read = ", ".join(
        f"{_source_expr(c, schema.get(c.name), raw.is_text)} AS {_raw(c.name)}" for c in raw.spec.columns
    )
    return f"SELECT {ROW}, {as_read}{''.join(f', {q(n)}' for n in _extras(raw))} FROM {source_name}"


def _extras(raw: RawTable) -> list[str]:
    known = {c.name for c in raw.spec.columns}
    return [n for n in raw.data.column_names if n not in known and n != ROW]


def _parsed_from_text(raw: RawTable) -> dict[str, bool]:
    schema = {f.name: f.type for f in raw.data.schema}
    return {c.name: _reads_as_text(c, schema.get(c.name), raw.is_text) for c in raw.spec.columns}


def validate_table(
    con: duckdb.DuckDBPyConnection, raw: RawTable
) -> tuple[pa.Table, pd.DataFrame, TableReport]:
    """Type and check one table; accepted rows are also registered in DuckDB as ``accepted_<name>``.

    Rows breaking a rule are found in one pass; their reasons are spelled out only for them.
    Sources already typed (Parquet, SQL, DataFrames) are accepted without a copy when clean.
    """
    spec = raw.spec
    source_name = f"source_{spec.name}"
    con.register(source_name, raw.data)
    try:
        from_text = _parsed_from_text(raw)
        present = {c.name for c in spec.columns if c.name in raw.data.column_names}
        parsed = raw.is_text or any(from_text[name] for name in present)
        natively = None if parsed else _typed_natively(raw)
        if natively is not None and spec.name == "payments":  # matched once: for the rules and for settlement
            natively = _matched(con, natively)
        if natively is None:
            typed = ", ".join(f"{_typed_expr(c, from_text[c.name])} AS {q(c.name)}" for c in spec.columns)
            typed_ctes = f"as_read AS ({_as_read_sql(raw, source_name)}), typed AS MATERIALIZED (SELECT *, {typed} FROM as_read)"
        else:  # typed by its source: the values as read are the typed values (text trimmed, empty as null)
            con.register(f"natively_{spec.name}", natively)
            as_read = ", ".join(f"{q(c.name)} AS {_raw(c.name)}" for c in spec.columns)
            # a view, not a CTE: DuckDB would copy a CTE read three times into memory
            con.execute(f"CREATE OR REPLACE TEMP VIEW typed AS SELECT *, {as_read} FROM natively_{spec.name}")
            typed_ctes = ""
        key_stats = f"SELECT {ROW}, NULL::BIGINT AS __n_key, NULL::BIGINT AS __n_same, NULL::BIGINT AS __first_row, NULL::BIGINT AS __rank FROM typed WHERE false"
        if spec.key:
            # Window functions only over keys whose hash repeats: on millions of clean rows they would dominate the load.
            key, raw_cols = ", ".join(map(q, spec.key_columns)), ", ".join(_raw(c.name) for c in spec.columns)
            not_null = " AND ".join(f"{q(c)} IS NOT NULL" for c in spec.key_columns)
            key_stats = f"""
                SELECT {ROW}, count(*) OVER (PARTITION BY {key}) AS __n_key, count(*) OVER (PARTITION BY {raw_cols}) AS __n_same,
                       min({ROW}) OVER (PARTITION BY {key}) AS __first_row, row_number() OVER (PARTITION BY {key} ORDER BY {ROW}) AS __rank
                FROM typed WHERE {not_null} AND hash({key}) IN (
                    SELECT __hash FROM (SELECT hash({key}) AS __hash FROM typed WHERE {not_null}) GROUP BY __hash HAVING count(*) > 1)"""
        join, ref_rules = reference_rules(
            spec, matched=natively is not None and INVOICE_PLACE in natively.column_names
        )
        rules = (
            [r for c in spec.columns for r in column_rules(c, parsed=from_text[c.name] and natively is None)]
            + table_rules(spec, present)
            + key_rules(spec)
            + ref_rules
        )
        problem_columns, problem_reasons = _problems(rules)
        any_problem = " OR ".join(
            f"({r.condition})" for r in rules
        )  # true when one is true; WHERE drops null
        with_reasons = f"t.{ROW}, {problem_columns} AS __columns, {problem_reasons} AS __reasons"

        def rows(select: str, where: str) -> str:
            return f"""
                WITH {typed_ctes + "," if typed_ctes else ""}
                key_stats AS ({key_stats}),
                counted AS (SELECT typed.*, key_stats.* EXCLUDE ({ROW}) FROM typed LEFT JOIN key_stats USING ({ROW}))
                SELECT {select} FROM counted t {join} WHERE {where}"""

        if natively is None:  # parsed text: one pass, reasons spelled out only for the rows flagged
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE flagged_{spec.name} AS {rows(with_reasons, any_problem)}"
            )
            rejected_rows = con.sql(f"SELECT {ROW} FROM flagged_{spec.name}").to_arrow_table()[ROW]
        else:  # flag first: the reasons' expressions are planned only when a row broke a rule (a push of a few rows)
            rejected_rows = con.sql(rows(f"t.{ROW}", any_problem)).to_arrow_table()[ROW]
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE flagged_{spec.name} ({ROW} BIGINT, __columns VARCHAR, __reasons VARCHAR)"
            )
            if len(rejected_rows):
                con.register("rows_flagged", pa.table({ROW: rejected_rows}))
                where = f"t.{ROW} IN (SELECT {ROW} FROM rows_flagged)"
                con.execute(f"INSERT INTO flagged_{spec.name} {rows(with_reasons, where)}")
                con.unregister("rows_flagged")
        if natively is None:
            names = (
                f"{ROW}, "
                + ", ".join(q(c.name) for c in spec.columns)
                + "".join(f", {q(n)}" for n in _extras(raw))
            )
            accepted = con.sql(
                f"WITH {typed_ctes} SELECT {names} FROM typed WHERE {ROW} NOT IN (SELECT {ROW} FROM flagged_{spec.name}) ORDER BY {ROW}"
            ).to_arrow_table()
        else:
            con.execute("DROP VIEW typed")
            con.unregister(f"natively_{spec.name}")
            accepted = _without_rows(
                natively.drop_columns([c for c in (ISSUE_DATE,) if c in natively.column_names]), rejected_rows
            )
        if spec.name == "events":
            accepted = accepted.set_column(
                accepted.column_names.index("type"), "type", pc.utf8_lower(accepted["type"])
            )
        register_accepted(con, spec.name, accepted)
        flagged = len(rejected_rows) > 0
        if spec.name == "payments":
            clean = accepted.num_rows
            accepted = _reject_overpayments(con, accepted)
            flagged = flagged or accepted.num_rows < clean
        rejected = _rejected_frame(con, raw, source_name) if flagged or raw.malformed else _no_rejects(raw)
    finally:
        con.unregister(source_name)
    report = TableReport(
        spec.name, raw.file, read=raw.n_read, accepted=accepted.num_rows, rejected=len(rejected)
    )
    return accepted, rejected, report


def _typed_natively(raw: RawTable) -> pa.Table:
    """A typed source as the ledger's column types, without going through DuckDB (no copy when types match)."""
    columns: dict[str, pa.ChunkedArray | pa.Array] = {ROW: raw.data[ROW]}
    for column in raw.spec.columns:
        arrow_type = _ARROW_TYPES[column.kind]
        if column.name not in raw.data.column_names:
            columns[column.name] = pa.nulls(raw.data.num_rows, arrow_type)
            continue
        values = raw.data[column.name]
        if column.kind == "string":
            values = _trimmed_or_null(pc.cast(values, pa.string()))
        elif column.kind == "date" and pa.types.is_timestamp(values.type):
            values = pc.cast(pc.floor_temporal(values, unit="day"), pa.date32())
        columns[column.name] = pc.cast(values, arrow_type)
    for name in _extras(raw):
        columns[name] = raw.data[name]
    return pa.table(columns)


def _trimmed_or_null(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text without surrounding spaces, empty text as null (as the SQL path reads it); no copy when clean."""
    padded = pc.or_(pc.starts_with(values, " "), pc.ends_with(values, " "))
    if pc.any(padded).as_py():
        values = pc.utf8_trim(values, " ")
    if pc.any(pc.equal(values, "")).as_py():
        values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    return values


def _without_rows(table: pa.Table, rows: pa.ChunkedArray) -> pa.Table:
    """``table`` minus the rows whose ``__row`` is in ``rows`` (the table itself when there are none)."""
    if len(rows) == 0:
        return table
    return table.filter(pc.invert(pc.is_in(table[ROW], value_set=rows.combine_chunks())))


def _is_native(column: ColumnSpec, arrow_type: pa.DataType) -> bool:
    if column.kind == "date":
        return pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type)
    if column.kind == "int":
        return pa.types.is_integer(arrow_type)
    if column.kind == "float":
        return (
            pa.types.is_integer(arrow_type)
            or pa.types.is_floating(arrow_type)
            or pa.types.is_decimal(arrow_type)
        )
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


PLACE = "__at"
INVOICE_PLACE = "__invoice_at"


def register_accepted(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Accepted rows as ``accepted_<name>``; invoices with ``__at`` too, their place in the table.

    Payments are matched to their invoice by id once (:func:`match_payments`); summaries
    and settlement then find invoices by place, far cheaper than by text on millions of rows.
    """
    if name == "invoices":
        table = table.append_column(PLACE, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    con.register(f"accepted_{name}", table)


ISSUE_DATE = "__issue_date"


def _matched(con: duckdb.DuckDBPyConnection, payments: pa.Table) -> pa.Table:
    """Typed payments with their invoice's place among the accepted invoices and its issue date (null when unknown)."""
    con.register("payments_to_match", payments)
    found = con.sql(
        f"SELECT i.{PLACE}, i.issue_date FROM payments_to_match p LEFT JOIN accepted_invoices i USING (invoice_id) ORDER BY p.{ROW}"
    ).to_arrow_table()
    con.unregister("payments_to_match")
    return payments.append_column(INVOICE_PLACE, found[PLACE]).append_column(ISSUE_DATE, found["issue_date"])


def match_payments(con: duckdb.DuckDBPyConnection, payments: pa.Table) -> pa.Table:
    """``payments`` (accepted, in ``__row`` order, each of an accepted invoice) with ``__invoice_at``,
    the place of its invoice among the accepted invoices; registered as ``accepted_payments``."""
    if INVOICE_PLACE in payments.column_names:  # matched while validated
        con.register("accepted_payments", payments)
        return payments
    con.register("accepted_payments", payments)
    places = con.sql(
        f"SELECT i.{PLACE} FROM accepted_payments p JOIN accepted_invoices i USING (invoice_id) ORDER BY p.{ROW}"
    ).to_arrow_table()[PLACE]
    matched = payments.append_column(INVOICE_PLACE, places)
    con.register("accepted_payments", matched)
    return matched


def as_days(dates: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Dates without nulls as days since 1970-01-01."""
    return np.asarray(pc.cast(dates, pa.int32()).to_numpy(), dtype=np.int32)


@dataclass(frozen=True)
class PaidInvoices:
    """Per invoice place: number of accepted payments, their total and the day of the last one."""

    count: np.ndarray
    total: np.ndarray
    last: np.ndarray

    @classmethod
    def of(cls, payments: pa.Table, n_invoices: int) -> PaidInvoices:
        """From payments matched by :func:`match_payments`."""
        at = payments[INVOICE_PLACE].to_numpy()
        last = np.full(n_invoices, np.iinfo(np.int32).min, dtype=np.int32)
        np.maximum.at(last, at, as_days(payments["payment_date"]))
        return cls(
            count=np.bincount(at, minlength=n_invoices),
            total=np.bincount(at, weights=payments["amount"].to_numpy(), minlength=n_invoices),
            last=last,
        )


def _reject_overpayments(con: duckdb.DuckDBPyConnection, accepted: pa.Table) -> pa.Table:
    """Payments that take an invoice's paid total above its amount are moved to the rejects.

    The running total is computed only for invoices whose payments exceed the amount.
    Returns the accepted payments without them, matched to their invoices
    (:func:`match_payments`) and registered again as ``accepted_payments``.
    """
    accepted = match_payments(con, accepted)
    amounts = con.sql(f"SELECT amount FROM accepted_invoices ORDER BY {PLACE}").to_arrow_table()["amount"]
    paid = PaidInvoices.of(accepted, len(amounts))
    over = np.flatnonzero(paid.total > amounts.to_numpy() + OVERPAYMENT_TOLERANCE)
    if len(over) == 0:
        return accepted
    con.register("over", pa.table({PLACE: over}))
    overpaid = con.sql(
        f"""
        SELECT p.{ROW}, 'amount' AS __columns,
               'payments for invoice ''' || i.invoice_id || ''' reach ' || round(paid_total, 2) || ' with this row, above the invoice amount '
               || round(i.amount, 2) || '; check the amount or the invoice_id (overpayment)' AS __reasons
        FROM (SELECT *, sum(amount) OVER (PARTITION BY {INVOICE_PLACE} ORDER BY payment_date, {ROW}
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS paid_total
              FROM accepted_payments WHERE {INVOICE_PLACE} IN (SELECT {PLACE} FROM over)) p
        JOIN accepted_invoices i ON i.{PLACE} = p.{INVOICE_PLACE}
        WHERE paid_total > i.amount + {OVERPAYMENT_TOLERANCE}
        """
    ).to_arrow_table()
    con.unregister("over")
    if overpaid.num_rows == 0:
        return accepted
    con.register("overpaid", overpaid)
    con.execute("INSERT INTO flagged_payments SELECT * FROM overpaid")
    con.unregister("overpaid")
    accepted = _without_rows(accepted, overpaid[ROW])
    con.register("accepted_payments", accepted)
    return accepted


def _no_rejects(raw: RawTable) -> pd.DataFrame:
    """The quarantine frame of a table without rejected rows: its columns, no rows."""
    originals = [c.name for c in raw.spec.columns if c.name in raw.data.column_names]
    frame = pd.DataFrame(columns=[*QUARANTINE_COLUMNS, *originals, *_extras(raw)], dtype=object)
    return frame.astype({"row": "int64"})


def _rejected_frame(con: duckdb.DuckDBPyConnection, raw: RawTable, source_name: str) -> pd.DataFrame:
    """Quarantine rows: where and why, then the row's values as the source gave them (text)."""
    spec = raw.spec
    originals = ", ".join(
        f"CAST({_raw(c.name)} AS VARCHAR) AS {q(c.name)}"
        for c in spec.columns
        if c.name in raw.data.column_names
    )
    extra_sql = "".join(f", CAST({q(n)} AS VARCHAR) AS {q(n)}" for n in _extras(raw))
    frame = con.execute(
        f"""
        WITH as_read AS ({_as_read_sql(raw, source_name)})
        SELECT '{raw.file}' AS file, f.{ROW} AS row, f.__columns AS column, f.__reasons AS reason, {originals}{extra_sql}
        FROM flagged_{spec.name} f JOIN as_read USING ({ROW}) ORDER BY f.{ROW}
        """
    ).df()
    if raw.malformed:
        malformed = pd.DataFrame(
            {
                "file": raw.file,
                "row": [m.row for m in raw.malformed],
                "column": "",
                "reason": [m.reason for m in raw.malformed],
                "record": [m.text for m in raw.malformed],
            }
        )
        frame = pd.concat([frame, malformed], ignore_index=True).sort_values(
            "row", kind="stable", ignore_index=True
        )
    frame["row"] = frame["row"].astype("int64")
    assert list(frame.columns[: len(QUARANTINE_COLUMNS)]) == list(QUARANTINE_COLUMNS)
    return frame
