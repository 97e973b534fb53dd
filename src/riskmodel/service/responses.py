"""Response bodies of the scoring service, as documented on the OpenAPI page (DESIGN.md field names).

The service sends the library's JSON-ready dicts as they are; these models describe them
(extra fields are allowed) and the tests check every response against them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")


Basis = Literal["model", "rules"]
NOTES = Field(
    default_factory=list,
    description="What the answer lacks for want of a model, in words (empty when nothing is missing)",
)


class Reason(_Body):
    """One reason: the feature, its value, its contribution and what it means.

    With ``basis`` ``"model"`` a SHAP reason (``contribution`` in log-odds of the PD); with
    ``"rules"`` a step of the policy's payment-behaviour rules (``contribution`` in grade
    notches, ``rule`` its name; the step ``base`` holds the starting grade).
    """

    feature: str
    value: float | str | None = None
    contribution: float
    description: str
    group: str | None = None
    comparison: float | str | None = Field(None, description="Portfolio median of the feature")
    direction: str | None = Field(None, description="higher or lower than the comparison")
    value_text: str | None = Field(
        None, description="The value by its unit: 12,300; 45 days; 37%; not provided"
    )
    comparison_text: str | None = None
    members: list[dict[str, Any]] | None = Field(
        None, description="Each feature of the reason's group with its own contribution"
    )
    rule: str | None = Field(None, description="With basis rules: the payment rule of this step")


class RationaleStep(_Body):
    rule: str
    value: float | None = None
    detail: str


class Rationale(_Body):
    """Which rules set a limit, with their numbers."""

    rule: str | None = None
    steps: list[RationaleStep]
    text: str
    policy_version: str


class ToImprove(_Body):
    """A payment the customer can make and the PD and grade the same model gives after it."""

    action: str = Field(
        description="pay_overdue (the oldest overdue invoices) or pay_open (every open invoice)"
    )
    invoice_ids: list[str]
    amount: float
    pd_12m: float
    grade: int
    target_pd: float = Field(description="Upper PD bound of the next better grade")
    text: str


class Alert(_Body):
    customer_id: str
    alert_type: str
    key: str
    severity: str
    severity_level: int
    action: str
    action_text: str
    text: str
    facts: dict[str, Any]
    status: str


MedianPaymentDate = Annotated[
    date | None, Field(description="Median payment date, after as_of for an open invoice")
]
PaymentDateP10 = Annotated[
    date | None, Field(description="10 % of the chance of payment falls before this date")
]
PaymentDateP90 = Annotated[
    date | None, Field(description="90 % of the chance of payment falls before this date")
]


class OpenInvoice(_Body):
    invoice_id: str
    issue_date: date
    due_date: date
    amount: float
    open_amount: float
    days_past_due: int
    is_disputed: bool
    p_late: float | None = None
    p_late_30: float | None = None
    p_late_60: float | None = None
    p_late_90: float | None = None
    expected_payment_date: MedianPaymentDate = None
    payment_date_p10: PaymentDateP10 = None
    payment_date_p90: PaymentDateP90 = None


class ScoreResponse(_Body):
    customer_id: str
    as_of: date
    pd_12m: float = Field(description="With basis rules: the rule grade's central PD on the master scale")
    grade: int
    basis: Basis = Field(
        description="model: the default model graded the customer; rules: the policy's payment-behaviour rules (no default model is registered)"
    )
    in_default: bool | None = Field(None, description="Already in default at as_of (then pd_12m is 1)")
    default_date: date | None = None
    recommended_limit: float | None = None
    current_limit: float | None = None
    limit_rationale: Rationale
    alerts: list[Alert]
    reasons: list[Reason]
    open_invoices: list[OpenInvoice]
    model_version: str
    policy_version: str
    notes: list[str] = NOTES
    to_improve: list[ToImprove] | None = Field(
        None,
        description='With "improve": true: the smallest action that lifts the customer a grade, re-scored',
    )


class BatchProblem(_Body):
    customer_id: str
    error: str


class ScoreBatchResponse(_Body):
    as_of: date
    results: list[ScoreResponse]
    not_scored: list[BatchProblem]
    model_version: str
    policy_version: str


class InvoiceRisk(_Body):
    invoice_id: str
    customer_id: str
    issue_date: date
    due_date: date
    amount: float
    is_open: bool
    open_amount: float | None = None
    days_past_due: int | None = None
    is_disputed: bool | None = None
    p_late: float | None = None
    p_late_30: float | None = None
    p_late_60: float | None = None
    p_late_90: float | None = None
    expected_payment_date: MedianPaymentDate = None
    payment_date_p10: PaymentDateP10 = None
    payment_date_p90: PaymentDateP90 = None
    reasons: list[Reason]


class InvoiceRiskResponse(_Body):
    as_of: date
    invoices: list[InvoiceRisk]
    model_version: str
    policy_version: str
    notes: list[str] = NOTES


class OnboardResponse(_Body):
    pd_12m: float  # with basis rules: the rule grade's central PD on the master scale
    grade: int
    decision: Literal["approve", "review", "prepayment_or_guarantee", "decline"]
    basis: Basis
    initial_limit: float
    requested_limit: float | None = None
    rationale: Rationale
    reasons: list[Reason]
    model_version: str
    policy_version: str


class GradeBucket(_Body):
    grade: int
    n_customers: int
    share: float
    open_balance: float
    current_limit: float
    recommended_limit: float


class PortfolioResponse(_Body):
    as_of: date
    n_customers: int
    mean_pd_12m: float | None = None
    open_balance: float
    grades: list[GradeBucket]
    alerts_by_severity: dict[str, int]
    n_alerts: int
    top_alerts: list[Alert]
    basis: Basis = Field(description="What graded the customers (see ScoreResponse.basis)")
    model_version: str
    policy_version: str
    notes: list[str] = NOTES


class CashWeek(_Body):
    """Expected cash collected in one week and the 80 % band (independent invoices, normal approximation)."""

    week: int = Field(description="1 = the seven days after as_of")
    week_start: date
    week_end: date
    expected: float
    low: float
    high: float


class CashForecastResponse(_Body):
    """The open invoices' expected collections by week; ``expected_in_weeks + remaining = open_amount``."""

    as_of: date
    customer_id: str | None = None
    open_amount: float = Field(description="What the open invoices still owe at as_of")
    n_invoices: int
    expected_in_weeks: float | None = Field(None, description="Sum of the weeks' expected cash")
    remaining: float | None = Field(None, description="Expected amount still open after the last week")
    weeks: list[CashWeek] = Field(description="One row per week; empty without a late-payment model")
    model_version: str
    notes: list[str] = NOTES


class LedgerInfo(_Body):
    source: str
    customers: int
    invoices: int
    payments: int | None = None
    data_end: date | None = None
    pushed_rows: int | None = Field(None, description="Rows pushed into the ledger's journal so far")


class LedgerResponse(_Body):
    """The ledger served after a refresh."""

    data_end: date
    ledger: LedgerInfo


class LedgerPushResponse(_Body):
    """What a push did per table, and the ledger served now."""

    added: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    data_end: date
    ledger: LedgerInfo


class StatusResponse(_Body):
    """What the running service serves: champion versions, policy, ledger, and whether keys are required."""

    status: str
    model_version: str
    models: dict[str, str]
    basis: dict[str, Basis] = Field(
        default_factory=dict, description="What grades customers (score) and applications (onboard)"
    )
    policy_version: str
    ledger: LedgerInfo
    auth: bool
    started_at: str


class Problem(_Body):
    field: str = Field(
        description="Where the problem is, e.g. history.invoices[3].amount; empty for the body"
    )
    message: str


class ErrorResponse(_Body):
    """Every 4xx answer: what is wrong, and per field where and why."""

    error: str
    detail: list[Problem] = []
