"""Invoices of the synthetic ledger: issuance, amounts and the day each would be paid.

Everything is vectorised over invoices. Counts per customer and month are Poisson in customer
size, seasonality and stress; amounts are log-normal in customer size. The days beyond terms
of an invoice add the customer's habit, a delay that grows as its health falls (so customers slow
down before they stop paying), noise with a heavy tail, and a dispute delay on disputed invoices.
What a default does to this schedule is applied in :mod:`riskmodel.sample.payments`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskmodel.sample.calendar import (
    NEVER,
    Calendar,
    nearest_business_day,
    previous_business_day,
    uniform_days,
)
from riskmodel.sample.customers import CustomerBook
from riskmodel.sample.health import HealthPaths

# Invoice volume multiplier by calendar month: Q4 peak, summer dip.
_SEASONALITY = np.array([0.9, 0.95, 1.05, 1.0, 1.0, 0.97, 0.85, 0.75, 1.05, 1.1, 1.15, 1.2])
_STRETCH = 0.4  # order uplift per unit of health below 1.5 (distressed firms lean on suppliers)
_AMOUNT_LOG_SD = 0.85
_MIN_AMOUNT_CENTS = 500
_STRESS_DELAY_DAYS = 60.0  # extra days beyond terms at health 0, decaying as health rises
_STRESS_DELAY_DECAY = 1.6
_NOISE_SD_DAYS = 1.5
_SLIP_PROB, _SLIP_MEAN_DAYS, _SLIP_MAX_DAYS = 0.08, 15.0, 50.0  # invoices stuck in approval or forgotten
_DISPUTE_PROB, _DISPUTE_STRESS_UPLIFT = 0.025, 0.02
_DISPUTE_DELAY_DAYS = (20, 60)
_PARTIAL_PROB = 0.07


@dataclass(frozen=True)
class InvoiceDraft:
    """Invoices before default and censoring, arrays of shape (n_invoices,), sorted by issue day.

    ``scheduled_day`` is the day the invoice would be fully paid if the customer kept paying;
    ``n_instalments`` is 1, or 2–3 for invoices paid in parts.
    """

    customer: np.ndarray
    issue_day: np.ndarray
    due_day: np.ndarray
    amount_cents: np.ndarray
    scheduled_day: np.ndarray
    dispute_day: np.ndarray  # NEVER when not disputed
    n_instalments: np.ndarray

    @property
    def n(self) -> int:
        return len(self.customer)


def _issue(
    rng: np.random.Generator, book: CustomerBook, paths: HealthPaths, hold_day: np.ndarray, cal: Calendar
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customer index, simulated month and issue day of every invoice, sorted by issue day.

    Customers are invoiced from onboarding until they churn or their account is put on hold.
    """
    starts, ends = cal.month_starts[:-1], cal.month_starts[1:]
    active = (
        (book.onboarding_day[:, None] < ends[None, :])
        & (paths.churn_day[:, None] > starts[None, :])
        & (hold_day[:, None] > starts[None, :])
    )
    stretch = np.exp(_STRETCH * np.clip(1.5 - paths.health, 0.0, 1.5))
    season = _SEASONALITY[cal.month_of_year - 1]
    rate = (book.invoice_rate[:, None] * season[None, :] * stretch * active).astype(np.float64)
    counts = rng.poisson(rate.T).ravel()  # month-major, so invoices come out roughly in time order
    cells = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    month, customer = np.divmod(cells, book.n)
    del cells

    issue = nearest_business_day(cal.uniform_day(rng, month))
    issue = np.clip(issue, starts[month], ends[month] - 1)
    keep = (
        (issue >= book.onboarding_day[customer])
        & (issue < paths.churn_day[customer])
        & (issue < hold_day[customer])
    )
    customer, month, issue = customer[keep], month[keep], issue[keep]
    order = np.argsort(issue * (1 << 32) + customer)
    return customer[order], month[order], issue[order]


def draft_invoices(
    rng: np.random.Generator, book: CustomerBook, paths: HealthPaths, hold_day: np.ndarray, cal: Calendar
) -> InvoiceDraft:
    """Draw every invoice with its amount, dispute and scheduled (no-default) settlement day.

    ``hold_day`` (shape (n_customers,)) is the day deliveries to a defaulted customer stop.
    """
    customer, month, issue = _issue(rng, book, paths, hold_day, cal)
    n = len(customer)
    terms = book.terms_days[customer]
    due = issue + terms

    amount_noise = rng.standard_normal(n)
    amount = np.exp(book.amount_log_mean[customer] + _AMOUNT_LOG_SD * amount_noise)
    amount_cents = np.maximum(_MIN_AMOUNT_CENTS, np.round(amount * 100.0)).astype(np.int64)

    # health around the time the invoice falls due drives how late it is paid
    pay_month = np.minimum(month + terms // 30, cal.months - 1)
    health = paths.health[customer, pay_month].astype(np.float64)
    del pay_month
    stress_delay = _STRESS_DELAY_DAYS * np.exp(-_STRESS_DELAY_DECAY * np.maximum(health, 0.0))
    slip = np.where(
        rng.random(n) < _SLIP_PROB, np.minimum(rng.exponential(_SLIP_MEAN_DAYS, n), _SLIP_MAX_DAYS), 0.0
    )
    noise = rng.normal(0.0, _NOISE_SD_DAYS, n) + slip

    disputed = rng.random(n) < _DISPUTE_PROB + _DISPUTE_STRESS_UPLIFT * (health < 1.0)
    dispute_delay = np.where(disputed, uniform_days(rng, *_DISPUTE_DELAY_DAYS, n), 0)
    days_beyond_terms = np.round(book.habit_days[customer] + stress_delay + noise) + dispute_delay
    scheduled = previous_business_day(due + days_beyond_terms.astype(np.int64))
    scheduled = np.maximum(scheduled, issue)

    raised = issue + (rng.random(n) * (terms + 20)).astype(np.int64)
    dispute_day = np.where(
        disputed, np.minimum(np.maximum(raised, issue), np.maximum(scheduled - 1, issue)), NEVER
    )

    partial_prob = _PARTIAL_PROB + 0.05 * (amount_noise > 0.5) + 0.04 * (health < 1.5)
    partial = rng.random(n) < partial_prob
    n_instalments = np.where(partial, 2 + (rng.random(n) < 0.35), 1).astype(np.int64)
    return InvoiceDraft(
        customer=customer,
        issue_day=issue,
        due_day=due,
        amount_cents=amount_cents,
        scheduled_day=scheduled,
        dispute_day=dispute_day,
        n_instalments=n_instalments,
    )
