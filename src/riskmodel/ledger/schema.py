"""Column specifications of the canonical ledger (DESIGN.md, "Canonical ledger").

Each table is a tuple of :class:`ColumnSpec`; loaders and validators read these specs
rather than spelling column names out again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["string", "date", "float", "int"]

DATED_FIELDS: tuple[str, ...] = (
    "credit_limit",
    "payment_terms_days",
    "annual_revenue",
    "employees",
    "registered_capital",
    "bureau_score",
)
"""Customer facts that change over time; ``customer_history`` dates them (DESIGN.md)."""

EVENT_TYPES: tuple[str, ...] = ("bankruptcy", "legal_action", "write_off", "insurance_claim", "restructuring")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a ledger table.

    ``minimum`` is inclusive unless ``strictly_positive`` is set.
    """

    name: str
    kind: Kind
    required: bool = False
    minimum: float | None = None
    strictly_positive: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One ledger table: its columns, its key and whether the ledger needs it."""

    name: str
    columns: tuple[ColumnSpec, ...]
    key: str | tuple[str, ...] | None
    required: bool

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The key as a tuple of column names (empty when the table has no key)."""
        if self.key is None:
            return ()
        return (self.key,) if isinstance(self.key, str) else self.key

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


CUSTOMERS = TableSpec(
    name="customers",
    key="customer_id",
    required=True,
    columns=(
        ColumnSpec("customer_id", "string", required=True),
        ColumnSpec("onboarding_date", "date", required=True),
        ColumnSpec("name", "string"),
        ColumnSpec("country", "string"),
        ColumnSpec("industry", "string"),
        ColumnSpec("credit_limit", "float", minimum=0),
        ColumnSpec("payment_terms_days", "int", minimum=0),
        ColumnSpec("annual_revenue", "float", minimum=0),
        ColumnSpec("years_in_business", "float", minimum=0),
        ColumnSpec("employees", "float", minimum=0),
        ColumnSpec("registered_capital", "float", minimum=0),
        ColumnSpec("bureau_score", "float"),
    ),
)

INVOICES = TableSpec(
    name="invoices",
    key="invoice_id",
    required=True,
    columns=(
        ColumnSpec("invoice_id", "string", required=True),
        ColumnSpec("customer_id", "string", required=True),
        ColumnSpec("issue_date", "date", required=True),
        ColumnSpec("due_date", "date", required=True),
        ColumnSpec("amount", "float", required=True, strictly_positive=True),
        ColumnSpec("settled_date", "date"),
        ColumnSpec("dispute_date", "date"),
        ColumnSpec("written_off_date", "date"),
    ),
)

PAYMENTS = TableSpec(
    name="payments",
    key="payment_id",
    required=False,
    columns=(
        ColumnSpec("payment_id", "string", required=True),
        ColumnSpec("invoice_id", "string", required=True),
        ColumnSpec("payment_date", "date", required=True),
        ColumnSpec("amount", "float", required=True, strictly_positive=True),
    ),
)

EVENTS = TableSpec(
    name="events",
    key=None,
    required=False,
    columns=(
        ColumnSpec("customer_id", "string", required=True),
        ColumnSpec("date", "date", required=True),
        ColumnSpec("type", "string", required=True),
    ),
)

CUSTOMER_HISTORY = TableSpec(
    name="customer_history",
    key=("customer_id", "date"),
    required=False,
    columns=(
        ColumnSpec("customer_id", "string", required=True),
        ColumnSpec("date", "date", required=True),
        *(c for c in CUSTOMERS.columns if c.name in DATED_FIELDS),
    ),
)

TABLES: tuple[TableSpec, ...] = (CUSTOMERS, INVOICES, PAYMENTS, EVENTS, CUSTOMER_HISTORY)
TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)
TABLE_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}
