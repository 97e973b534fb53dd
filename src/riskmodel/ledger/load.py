"""Load a ledger: read, validate, derive settlement. The one door through which data enters."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.duck import duckdb_cursor
from riskmodel.exceptions import LedgerError
from riskmodel.ledger.pushes import (
    UPDATABLE,
    Change,
    PushOutcome,
    PushRefused,
    apply_changes,
    classify,
    journal_url,
    read_journal,
    write_journal,
)
from riskmodel.ledger.read import ROW, RawTable, raw_tables_from_frames, read_raw_tables
from riskmodel.ledger.schema import TABLE_BY_NAME, TABLE_NAMES, TABLES, TableSpec
from riskmodel.ledger.tables import QUARANTINE_COLUMNS, Ledger, TableReport, ValidationReport
from riskmodel.ledger.validate import (
    INVOICE_PLACE,
    OVERPAYMENT_TOLERANCE,
    PaidInvoices,
    as_days,
    match_payments,
    register_accepted,
    validate_table,
)

logger = logging.getLogger(__name__)


def ledger_from_frames(
    frames: Mapping[str, pd.DataFrame | pa.Table], strict: bool = False, source: str = "memory"
) -> Ledger:
    """Validate in-memory tables (same rules as files) into a :class:`Ledger`."""
    return _build(raw_tables_from_frames(frames), strict, source)


def load_ledger(source: str | Path, strict: bool = False) -> Ledger:
    """Read and validate a ledger from a folder (CSV or Parquet) or an SQLAlchemy URL.

    Rejected rows are kept in ``ledger.report``; loading goes on with the accepted rows
    unless ``strict`` is set, in which case any rejection raises :class:`LedgerError`.

    Raises
    ------
    LedgerError
        When the input is unusable (missing file, table or column, empty file, wrong
        encoding, no header row), or with ``strict`` when any row was rejected.
    """
    raw = read_raw_tables(source)
    changes = read_journal(source)
    if not changes:
        return _build(raw, strict, str(source))
    tables, traced = apply_changes(raw, changes)
    ledger = _build(tables, strict, str(source))
    pushed = [p for p in _pushed_rejections(ledger.report, traced) if p["row"] is not None]
    if pushed:
        raise LedgerError(
            f"{pushed[0]['table']}: a row pushed into this ledger (journal entry {pushed[0]['row']}) no longer fits "
            f"the source tables: {pushed[0]['reason']}; fix the source, or move the journal {journal_url(source)} "
            "aside to load without pushed rows"
        )
    logger.info("%s: %d pushed row(s) applied from the journal", source, len(changes))
    return ledger


def _build(
    raw_tables: dict[str, RawTable], strict: bool, source: str, held: Mapping[str, pa.Table] | None = None
) -> Ledger:
    """Validate the raw tables and derive settlement; ``held`` tables (typed, with ``__row``) are taken as accepted.

    A push passes the tables it does not change as ``held``: their rows were accepted
    before, and no rule of theirs reads anything a push can change (parent rows are only
    added; an invoice update changes only fields no payment rule reads).
    """
    held = held or {}
    if raw_tables["customers"].n_read == 0 and "customers" not in held:
        raise LedgerError(
            f"{raw_tables['customers'].file} has a header but no rows; a ledger needs at least one customer"
        )
    if raw_tables["invoices"].n_read == 0 and "invoices" not in held:
        logger.warning(
            "%s has no rows: every customer is without payment history", raw_tables["invoices"].file
        )
    with duckdb_cursor() as con:
        accepted: dict[str, pa.Table] = {}
        rejected: dict[str, pd.DataFrame] = {}
        reports = []
        for spec in TABLES:
            if spec.name in held:
                table, rejects, report = _taken_as_accepted(con, spec, held[spec.name])
                reports.append(report)
                accepted[spec.name], rejected[spec.name] = table, rejects
                continue
            raw = raw_tables.get(spec.name) or _empty_raw(spec)
            table, rejects, report = validate_table(con, raw)
            accepted[spec.name], rejected[spec.name] = table, rejects
            reports.append(report)
            logger.info(
                "%s: read %d, accepted %d, rejected %d",
                report.file,
                report.read,
                report.accepted,
                report.rejected,
            )
        has_payments = "payments" in raw_tables
        invoices, payments = _settle(accepted["invoices"], accepted["payments"])
    report = ValidationReport(tables=tuple(reports), rejected=rejected)
    if strict and not report.is_clean:
        raise LedgerError(_strict_message(report))
    return Ledger(
        customers=_drop_row(accepted["customers"]),
        invoices=invoices,
        payments=payments,
        events=_drop_row(accepted["events"]),
        customer_history=_drop_row(accepted["customer_history"]),
        has_payments=has_payments,
        has_customer_history="customer_history" in raw_tables,
        source=source,
        report=report,
    )


def _taken_as_accepted(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, table: pa.Table
) -> tuple[pa.Table, pd.DataFrame, TableReport]:
    """Rows accepted before, registered as ``validate_table`` registers what it accepts."""
    if spec.name == "payments":  # as validated: without the invoice's customer_id that settlement adds
        table = table.drop_columns([c for c in ("customer_id",) if c in table.column_names])
    register_accepted(con, spec.name, table)
    if spec.name == "payments":
        table = match_payments(con, table)
    report = TableReport(spec.name, spec.name, read=table.num_rows, accepted=table.num_rows, rejected=0)
    return table, pd.DataFrame(columns=list(QUARANTINE_COLUMNS)), report


def _empty_raw(spec: TableSpec) -> RawTable:
    """An optional table the source does not have, as an empty table of its columns."""
    assert not spec.required
    data = pa.table(
        {c.name: pa.array([], pa.string()) for c in spec.columns} | {ROW: pa.array([], pa.int64())}
    )
    return RawTable(spec, f"{spec.name} (absent)", data, is_text=True)


def _drop_row(table: pa.Table) -> pa.Table:
    return table.drop_columns([ROW]) if ROW in table.column_names else table


NOT_SETTLED = np.iinfo(np.int32).min  # a day no ledger date can be (dates run from 1900, before 1970 too)


def _settle(invoices: pa.Table, payments: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Settlement from payments: an invoice is settled on the day its payments first reach its amount.

    ``invoices`` and ``payments`` are the accepted rows, payments matched to their invoices
    (:func:`~riskmodel.ledger.validate.match_payments`). Invoices without any payment keep
    the ``settled_date`` the source gave, and one full payment on that date stands in for
    their payments (so every settled invoice has payments). Payments carry their invoice's
    ``customer_id``. Both tables keep their source order; only the derived columns are computed.
    """
    at = payments[INVOICE_PLACE].to_numpy()
    paid = PaidInvoices.of(payments, invoices.num_rows)
    owed = invoices["amount"].to_numpy() - OVERPAYMENT_TOLERANCE
    without_payments = paid.count == 0
    day = np.where((paid.count == 1) & (paid.total >= owed), paid.last, NOT_SETTLED)
    day = np.maximum(day, _paid_up_in_instalments(payments, at, paid, owed))
    given = pc.fill_null(pc.cast(invoices["settled_date"], pa.int32()), NOT_SETTLED).to_numpy()
    day = np.where(without_payments, given, day)
    settled_date = pa.array(day, pa.int32(), mask=day == NOT_SETTLED).cast(pa.date32())
    invoices = invoices.set_column(invoices.column_names.index("settled_date"), "settled_date", settled_date)
    paid_rows = pa.table(
        {
            "payment_id": payments["payment_id"],
            "invoice_id": payments["invoice_id"],
            "customer_id": invoices["customer_id"].take(at),
            "payment_date": payments["payment_date"],
            "amount": payments["amount"],
        }
    )
    stand_ins = invoices.filter(pa.array(without_payments & (day != NOT_SETTLED)))
    if stand_ins.num_rows == 0:
        return _drop_row(invoices), paid_rows
    stand_in_payments = pa.table(
        {
            "payment_id": pc.binary_join_element_wise("settled:", stand_ins["invoice_id"], ""),
            "invoice_id": stand_ins["invoice_id"],
            "customer_id": stand_ins["customer_id"],
            "payment_date": stand_ins["settled_date"],
            "amount": stand_ins["amount"],
        }
    )
    return _drop_row(invoices), pa.concat_tables([paid_rows, stand_in_payments.cast(paid_rows.schema)])


def _paid_up_in_instalments(
    payments: pa.Table, at: np.ndarray, paid: PaidInvoices, owed: np.ndarray
) -> np.ndarray:
    """Per invoice paid in several payments: the first day its running total reaches what is owed."""
    day = np.full(len(owed), NOT_SETTLED, dtype=np.int32)
    several = np.flatnonzero(paid.count[at] > 1)
    if len(several) == 0:
        return day
    days = as_days(payments["payment_date"])[several]
    order = np.lexsort((days, at[several]))
    invoice, days = at[several][order], days[order]
    running = np.cumsum(payments["amount"].to_numpy()[several][order])
    starts = np.flatnonzero(np.r_[True, invoice[1:] != invoice[:-1]])
    before = np.r_[0.0, running[starts[1:] - 1]]  # the running total before each invoice's first payment
    running -= np.repeat(before, np.diff(np.r_[starts, len(invoice)]))
    reached = running >= owed[invoice]
    first, where = np.unique(invoice[reached], return_index=True)
    day[first] = days[reached][where]
    return day


def _strict_message(report: ValidationReport) -> str:
    rows = report.rejected_rows()
    first = "; ".join(f"{r.file} row {r.row}: {r.reason}" for r in rows.head(3).itertuples())
    return f"{report.n_rejected} row(s) rejected and --strict is set; first: {first}. Run 'riskmodel validate' for the full list"


def push_rows(
    ledger: Ledger, batch: Mapping[str, Sequence[Mapping[str, Any]]], today: date
) -> tuple[Ledger, PushOutcome]:
    """Apply a pushed batch to ``ledger``: check it, keep it in the ledger's journal, return the new ledger.

    The batch is refused whole (:class:`~riskmodel.ledger.pushes.PushRefused`, nothing
    written) when a row conflicts with a held one, is dated after ``today``, or breaks a
    ledger rule once applied. Rows already held are left as they are, so a batch sent
    twice changes nothing the second time. Only the rows of the customers the batch touches
    are checked again: every ledger rule reads one customer's rows, and keys shared with
    other customers' rows are conflicts found before.
    """
    held = {name: getattr(ledger, name) for name in TABLE_NAMES}
    if not ledger.has_payments:  # stand-in payments of settled invoices, not rows anyone pushed
        held["payments"] = held["payments"].slice(0, 0)
    changes, outcome = classify(held, batch)
    if not outcome.changed:
        return ledger, outcome
    _refuse_future(changes, today)
    owners = _invoice_owners(ledger, changes)
    _refuse_unknown_parents(ledger, changes, owners)
    merged, touched = _applied(ledger, changes, owners)
    write_journal(ledger.source, changes)
    return merged, dataclasses.replace(outcome, seen_from=touched)


def apply_pushed(ledger: Ledger, changes: Sequence[Change]) -> tuple[Ledger, dict[str, date]]:
    """``ledger`` with journal entries accepted since it was read (another process's pushes), and :func:`seen_from` of them.

    Raises
    ------
    LedgerError
        When the entries no longer fit the ledger (read it again instead).
    """
    if not changes:
        return ledger, {}
    return _applied(ledger, changes, _invoice_owners(ledger, changes))


def _applied(
    ledger: Ledger, changes: Sequence[Change], owners: Mapping[str, str]
) -> tuple[Ledger, dict[str, date]]:
    """``ledger`` with ``changes`` applied, the touched customers' rows checked again (422 when one breaks a rule); :func:`seen_from` of them."""
    touched = seen_from(changes, owners)
    customers = pa.array(sorted(touched), pa.string())
    inside = {
        name: pc.is_in(getattr(ledger, name)["customer_id"], value_set=customers) for name in TABLE_NAMES
    }
    present = {"customers", "invoices", "events"}
    present |= {"payments"} if ledger.has_payments else set()
    present |= {"customer_history"} if ledger.has_customer_history else set()
    raw, unchanged = {}, {}
    changed_tables = {change.table for change in changes}
    for name in TABLE_NAMES:
        rows = (
            getattr(ledger, name).filter(inside[name])
            if name in present
            else getattr(ledger, name).slice(0, 0)
        )
        numbers = pa.array(np.arange(1, rows.num_rows + 1), pa.int64())
        rows = rows.append_column(ROW, numbers)
        if name in present:
            raw[name] = RawTable(TABLE_BY_NAME[name], name, rows, is_text=False)
        if name not in changed_tables:
            unchanged[name] = rows
    tables, traced = apply_changes(raw, changes)
    part = _build(tables, strict=False, source=ledger.source, held=unchanged)
    problems = _pushed_rejections(part.report, traced)
    if problems:
        raise PushRefused(422, problems)
    return _spliced(ledger, part, inside), touched


def _invoice_owners(ledger: Ledger, changes: Sequence[Change]) -> dict[str, str]:
    """The customer of each invoice the batch's payments name, held or pushed in the batch (unknown ones left out)."""
    paid = [c.row["invoice_id"] for c in changes if c.table == "payments"]
    held = ledger.invoices.filter(
        pc.is_in(ledger.invoices["invoice_id"], value_set=pa.array(paid, pa.string()))
    )
    pushed = {c.row["invoice_id"]: c.row["customer_id"] for c in changes if c.table == "invoices"}
    return dict(zip(held["invoice_id"].to_pylist(), held["customer_id"].to_pylist(), strict=True)) | pushed


def _refuse_unknown_parents(ledger: Ledger, changes: Sequence[Change], owners: Mapping[str, str]) -> None:
    """Refuse rows whose customer (or a payment's invoice, see ``owners``) is neither held nor pushed in the batch."""
    customers = {c.row["customer_id"] for c in changes if c.table == "customers"}
    wanted = [c.row["customer_id"] for c in changes if c.table in ("invoices", "events", "customer_history")]
    held = ledger.customers.filter(
        pc.is_in(ledger.customers["customer_id"], value_set=pa.array(wanted, pa.string()))
    )
    customers |= set(held["customer_id"].to_pylist())
    problems = []
    for change in changes:
        if change.table in ("invoices", "events", "customer_history"):
            parent, known, noun = "customer_id", customers, "customers"
        elif change.table == "payments":
            parent, known, noun = "invoice_id", owners, "invoices"
        else:
            continue
        if change.row[parent] not in known:
            problems.append(
                {
                    "table": change.table,
                    "row": change.index,
                    "column": parent,
                    "reason": f"{parent} {change.row[parent]!r} is neither among the ledger's {noun} nor in this "
                    f"batch; push the {noun[:-1]} first (or in the same batch) or fix the id",
                }
            )
    if problems:
        raise PushRefused(422, problems)


CHANGE_DATES = {
    "customers": "onboarding_date",
    "invoices": "issue_date",
    "payments": "payment_date",
    "events": "date",
    "customer_history": "date",
}
"""The day from which each kind of pushed row can be seen (an invoice update too: nothing earlier sees the invoice)."""


def seen_from(changes: Sequence[Change], owners: Mapping[str, str]) -> dict[str, date]:
    """The customers whose rows a batch adds or changes (a payment's: its invoice's customer, ``owners``), each with the first day a change can be seen.

    Anything computed for that customer as of an earlier day (an invoice's features the day
    before its issue) is the same with the batch as without it. A row whose customer is
    unknown touches no customer here (the ledger rules refuse it); one whose date does not
    parse counts from the earliest day.
    """
    first: dict[str, date] = {}
    for change in changes:
        customer = change.row.get("customer_id") or owners.get(change.row.get("invoice_id"))
        if not customer:
            continue
        try:
            day = date.fromisoformat((change.row.get(CHANGE_DATES[change.table]) or "")[:10])
        except ValueError:
            day = date.min
        first[customer] = min(day, first.get(customer, day))
    return first


def _spliced(ledger: Ledger, part: Ledger, inside: Mapping[str, pa.ChunkedArray]) -> Ledger:
    """``ledger`` with the touched customers' rows replaced by those of ``part`` (their rows, checked again).

    Columns outside the schema come back as text, as a load with pushed rows gives them.
    """
    tables = {}
    for name in TABLE_NAMES:
        kept, fresh = getattr(ledger, name).filter(pc.invert(inside[name])), getattr(part, name)
        spec_columns = set(TABLE_BY_NAME[name].column_names) | {"customer_id"}
        columns = {}
        for column in dict.fromkeys([*kept.column_names, *fresh.column_names]):
            old = kept[column] if column in kept.column_names else pa.nulls(kept.num_rows, pa.string())
            new = fresh[column] if column in fresh.column_names else pa.nulls(fresh.num_rows, old.type)
            if column not in spec_columns:
                old, new = pc.cast(old, pa.string()), pc.cast(new, pa.string())
            columns[column] = pa.chunked_array([*_chunks(old), *_chunks(pc.cast(new, old.type))], old.type)
        tables[name] = pa.table(columns)
    return dataclasses.replace(
        ledger,
        **tables,
        has_payments=part.has_payments or ledger.has_payments,
        has_customer_history=part.has_customer_history or ledger.has_customer_history,
    )


def _chunks(values: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return values.chunks if isinstance(values, pa.ChunkedArray) else [values]


NOT_EVENTS = ("due_date",)  # a date a row may hold before it comes: an invoice falls due after it is issued


def _refuse_future(changes: Sequence[Change], today: date) -> None:
    """Refuse rows recording something on a day after ``today`` (a due date is not such a day)."""
    problems = []
    for change in changes:
        spec = TABLE_BY_NAME[change.table]
        columns = UPDATABLE[change.table] if change.op == "update" else spec.column_names
        for column in columns:
            value = change.row.get(column)
            if column in NOT_EVENTS or spec.column(column).kind != "date":
                continue
            if value and value[:10] > today.isoformat():
                problems.append(
                    {
                        "table": change.table,
                        "row": change.index,
                        "column": column,
                        "reason": f"{value} is after today ({today}); push rows once they have happened",
                    }
                )
    if problems:
        raise PushRefused(422, problems)


def _pushed_rejections(
    report: ValidationReport, traced: dict[str, dict[int, Change]]
) -> list[dict[str, Any]]:
    """The rejected rows of a ledger with pushed changes applied, named by the pushed row behind each."""
    problems = []
    for name, rejected in report.rejected.items():
        for row in rejected.itertuples():
            change = traced.get(name, {}).get(int(row.row)) if row.row is not None else None
            problems.append(
                {
                    "table": name,
                    "row": None if change is None else change.index,
                    "column": row.column,
                    "reason": row.reason
                    if change is not None
                    else f"a row already held becomes invalid with this batch: {row.reason}",
                }
            )
    return problems
