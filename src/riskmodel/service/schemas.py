"""Request bodies of the scoring service (pydantic, so the OpenAPI page documents them).

Field names follow DESIGN.md. Bounds here keep values inside what the scoring code can
represent (finite numbers, 64-bit integers, ids that fit the database); the ledger rules
themselves (dates in order, positive amounts, known customers) are applied to inline
histories by :func:`riskmodel.ledger.ledger_from_frames`, the same code that checks files.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2100, 12, 31)  # the ledger's date range
MAX_AMOUNT = 1e13
MAX_DAYS = 36_500
MAX_BATCH = 500
MAX_INVOICE_IDS = 200
MAX_HISTORY_ROWS = 20_000
MAX_PUSH_ROWS = 5_000  # rows per table in one POST /ledger; riskmodel push sends larger folders in batches
MAX_FORECAST_WEEKS = 104  # riskmodel.forecast.MAX_WEEKS (the schemas import nothing that loads models)

Lang = Literal["en", "zh"]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=200)]
AsOf = Annotated[
    date,
    Field(
        ge=FIRST_DATE,
        le=LAST_DATE,
        description="Score with what was known at the end of this day (YYYY-MM-DD); default: the ledger's data end.",
    ),
]
Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT)]
LedgerNumber = Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
LedgerDays = Annotated[int, Field(ge=-MAX_DAYS, le=MAX_DAYS)]
LangField = Annotated[Lang, Field(description="Language of texts and reasons: en or zh.")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Row(BaseModel):
    """A ledger row: unknown extra columns are ignored, as in ledger files."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class CustomerRow(_Row):
    customer_id: Identifier
    onboarding_date: date
    name: Text | None = None
    country: Text | None = None
    industry: Text | None = None
    credit_limit: LedgerNumber | None = None
    payment_terms_days: LedgerDays | None = None
    annual_revenue: LedgerNumber | None = None
    years_in_business: LedgerNumber | None = None
    employees: LedgerNumber | None = None
    registered_capital: LedgerNumber | None = None
    bureau_score: LedgerNumber | None = None


class InvoiceRow(_Row):
    invoice_id: Identifier
    customer_id: Identifier
    issue_date: date
    due_date: date
    amount: LedgerNumber
    settled_date: date | None = None
    dispute_date: date | None = None
    written_off_date: date | None = None


class PaymentRow(_Row):
    payment_id: Identifier
    invoice_id: Identifier
    payment_date: date
    amount: LedgerNumber


class EventRow(_Row):
    customer_id: Identifier
    date: date
    type: Text


class CustomerHistoryRow(_Row):
    customer_id: Identifier
    date: date
    credit_limit: LedgerNumber | None = None
    payment_terms_days: LedgerDays | None = None
    annual_revenue: LedgerNumber | None = None
    employees: LedgerNumber | None = None
    registered_capital: LedgerNumber | None = None
    bureau_score: LedgerNumber | None = None


_PushRows = ConfigDict(
    extra="forbid", allow_inf_nan=False
)  # a pushed column the ledger does not have is an error


class PushedCustomer(CustomerRow):
    model_config = _PushRows


class PushedInvoice(InvoiceRow):
    model_config = _PushRows


class PushedPayment(PaymentRow):
    model_config = _PushRows


class PushedEvent(EventRow):
    model_config = _PushRows


class PushedCustomerHistory(CustomerHistoryRow):
    model_config = _PushRows


class LedgerPushRequest(_Request):
    """New or changed rows for the served ledger (any subset of its tables), applied whole or not at all."""

    customers: Annotated[list[PushedCustomer], Field(max_length=MAX_PUSH_ROWS)] | None = None
    invoices: Annotated[list[PushedInvoice], Field(max_length=MAX_PUSH_ROWS)] | None = None
    payments: Annotated[list[PushedPayment], Field(max_length=MAX_PUSH_ROWS)] | None = None
    events: Annotated[list[PushedEvent], Field(max_length=MAX_PUSH_ROWS)] | None = None
    customer_history: Annotated[list[PushedCustomerHistory], Field(max_length=MAX_PUSH_ROWS)] | None = None


class LedgerRefreshRequest(_Request):
    """Read the ledger again from its source (rows an ERP wrote there); the body is empty."""


class History(_Request):
    """An inline ledger for a what-if: the same tables and rules as a ledger folder."""

    customers: Annotated[list[CustomerRow], Field(min_length=1, max_length=MAX_HISTORY_ROWS)]
    invoices: Annotated[list[InvoiceRow], Field(max_length=MAX_HISTORY_ROWS)] = []
    payments: Annotated[list[PaymentRow], Field(max_length=MAX_HISTORY_ROWS)] | None = None
    events: Annotated[list[EventRow], Field(max_length=MAX_HISTORY_ROWS)] | None = None


class ScoreRequest(_Request):
    """Score one customer of the served ledger, or of an inline ``history`` (what-if)."""

    customer_id: Identifier
    as_of: AsOf | None = None
    lang: LangField = "en"
    history: History | None = None
    improve: bool = Field(
        False,
        description="Also answer to_improve[]: the smallest payment that lifts the customer a grade (slower)",
    )


class ScoreBatchRequest(_Request):
    """Score many customers of the served ledger as of one date."""

    customer_ids: Annotated[list[Identifier], Field(min_length=1, max_length=MAX_BATCH)]
    as_of: AsOf | None = None
    lang: LangField = "en"


class InvoiceRiskRequest(_Request):
    """Late-payment risk of a customer's open invoices, or of the invoices named."""

    customer_id: Identifier | None = None
    invoice_ids: Annotated[list[Identifier], Field(min_length=1, max_length=MAX_INVOICE_IDS)] | None = None
    as_of: AsOf | None = None
    lang: LangField = "en"

    @model_validator(mode="after")
    def _names_something(self) -> InvoiceRiskRequest:
        if self.customer_id is None and self.invoice_ids is None:
            raise ValueError("give customer_id (its open invoices) or invoice_ids (those invoices)")
        return self


class OnboardRequest(_Request):
    """A credit application: firmographic data of the applicant and the exposure asked for."""

    name: Text | None = None
    country: Text | None = None
    industry: Text | None = None
    payment_terms_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    annual_revenue: Amount | None = None
    years_in_business: Annotated[float, Field(ge=0, le=1000)] | None = None
    employees: Annotated[float, Field(ge=0, le=1e8)] | None = None
    registered_capital: Amount | None = None
    bureau_score: Annotated[float, Field(ge=-1e6, le=1e6)] | None = None
    requested_limit: Amount | None = None
    lang: LangField = "en"


class PortfolioRequest(_Request):
    """Grade distribution and top alerts of the active portfolio as of one date."""

    as_of: AsOf | None = None
    lang: LangField = "en"
    top_alerts: Annotated[int, Field(ge=1, le=200)] = 20


class CashForecastRequest(_Request):
    """Expected cash-in by week of the open invoices: the portfolio's, or one customer's."""

    as_of: AsOf | None = None
    customer_id: Identifier | None = Field(
        None, description="One customer's open invoices; default: the portfolio"
    )
    weeks: Annotated[
        int,
        Field(
            ge=1, le=MAX_FORECAST_WEEKS, description="Weeks forecast, the first starting the day after as_of"
        ),
    ] = 13
    lang: LangField = "en"
