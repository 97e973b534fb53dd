"""The in-memory ledger: validated, typed tables plus the report of what was rejected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.exceptions import LedgerError

QUARANTINE_COLUMNS: tuple[str, ...] = ("file", "row", "column", "reason")


@dataclass(frozen=True)
class TableReport:
    """Row counts of one table: ``read == accepted + rejected`` always holds."""

    table: str
    file: str
    read: int
    accepted: int
    rejected: int

    def __post_init__(self) -> None:
        if self.read != self.accepted + self.rejected:
            raise AssertionError(f"{self.file}: counts do not reconcile: {self}")


@dataclass(frozen=True)
class ValidationReport:
    """What loading a ledger accepted and rejected.

    ``rejected`` maps a table name to a DataFrame with one row per rejected input row:
    ``file, row, column, reason`` followed by the row's original values as text, so that
    nothing is lost and a fixed row can be put back.
    """

    tables: tuple[TableReport, ...]
    rejected: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def n_rejected(self) -> int:
        return sum(t.rejected for t in self.tables)

    @property
    def is_clean(self) -> bool:
        return self.n_rejected == 0

    def rejected_rows(self) -> pd.DataFrame:
        """All rejected rows of all tables (the quarantine columns only)."""
        frames = [df[list(QUARANTINE_COLUMNS)] for df in self.rejected.values() if len(df)]
        if not frames:
            return pd.DataFrame(columns=list(QUARANTINE_COLUMNS))
        return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True, eq=False)
class Ledger:
    """A validated ledger (DESIGN.md "Canonical ledger") held as Arrow tables.

    Attributes
    ----------
    customers, invoices, payments, events, customer_history
        Accepted rows, typed: ids ``string``, dates ``date32``, amounts ``float64``,
        ``payment_terms_days`` ``int64``. Every schema column is present (null when the
        source lacked it); unknown extra columns are kept. ``invoices.settled_date`` is
        derived from ``payments`` when the source had them. ``payments`` is always
        present: without a source payments table it holds one full payment per settled
        invoice on its settled_date, and every payment carries its invoice's
        ``customer_id``.
        ``customer_history`` (dated customer facts) is empty when the source had none.
    has_payments
        Whether the source had its own ``payments`` table.
    has_customer_history
        Whether the source had a ``customer_history`` table: then features read the
        customer facts as of each date; without it they read today's customers row.
    source
        Folder or URL the ledger was read from.
    report
        Counts and rejected rows.
    """

    customers: pa.Table
    invoices: pa.Table
    payments: pa.Table
    events: pa.Table
    customer_history: pa.Table
    has_payments: bool
    has_customer_history: bool
    source: str
    report: ValidationReport

    def frame(self, table: str) -> pd.DataFrame:
        """One table as a pandas DataFrame, dates as ``datetime64``."""
        arrow = getattr(self, table)
        return arrow.to_pandas(date_as_object=False)

    @property
    def data_end(self) -> date | None:
        """The latest date anywhere in the ledger (the end of what is known)."""
        candidates = [
            self.invoices["issue_date"],
            self.invoices["settled_date"],
            self.invoices["dispute_date"],
            self.invoices["written_off_date"],
            self.payments["payment_date"],
            self.events["date"],
            self.customer_history["date"],
        ]
        ends = [pc.max(c).as_py() for c in candidates if len(c)]
        ends = [d for d in ends if d is not None]
        return max(ends) if ends else None

    def require_data_end(self, purpose: str) -> date:
        """:attr:`data_end`, or a :class:`~riskmodel.exceptions.LedgerError` when no row has a date.

        ``purpose`` completes "there is nothing to ..." in the message (``"train on"``, ``"score"``).
        """
        end = self.data_end
        if end is None:
            raise LedgerError(
                f"the ledger at {self.source} has no dated rows; there is nothing to {purpose}; "
                "load a ledger whose invoices.csv has rows with an issue_date"
            )
        return end
