"""The point-in-time rule as code: what a ledger looked like at the end of a day."""

from __future__ import annotations

import dataclasses
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.ledger.tables import Ledger


def _not_after(column: pa.ChunkedArray, as_of: date) -> pa.ChunkedArray:
    return pc.less_equal(column, pa.scalar(as_of, pa.date32()))


def _null_after(table: pa.Table, column: str, as_of: date) -> pa.Table:
    values = table[column]
    kept = pc.if_else(pc.fill_null(_not_after(values, as_of), True), values, pa.scalar(None, values.type))
    return table.set_column(table.column_names.index(column), column, kept)


def truncate_ledger(ledger: Ledger, as_of: date) -> Ledger:
    """The ledger as known at the end of ``as_of`` (DESIGN.md point-in-time rule).

    Customers onboarded later, invoices issued later, later payments, events and
    customer_history rows are removed; later settlement, dispute and write-off dates are emptied (such an
    invoice is open at ``as_of``).
    """
    customers = ledger.customers.filter(_not_after(ledger.customers["onboarding_date"], as_of))
    invoices = ledger.invoices.filter(_not_after(ledger.invoices["issue_date"], as_of))
    for column in ("settled_date", "dispute_date", "written_off_date"):
        invoices = _null_after(invoices, column, as_of)
    payments = ledger.payments.filter(_not_after(ledger.payments["payment_date"], as_of))
    events = ledger.events.filter(_not_after(ledger.events["date"], as_of))
    history = ledger.customer_history.filter(_not_after(ledger.customer_history["date"], as_of))
    return dataclasses.replace(
        ledger,
        customers=customers,
        invoices=invoices,
        payments=payments,
        events=events,
        customer_history=history,
    )
