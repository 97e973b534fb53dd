"""Payments, settlements and write-offs of the synthetic ledger, consistent with each other.

An invoice is paid in one payment or in 2–3 instalments ending on its scheduled day. A customer
that defaults stops paying on its default day: instalments before it stand, the rest is unpaid.
A restructured customer later pays the remainder of each unpaid invoice in one payment; otherwise
most unpaid invoices are written off 120–240 days after due and the others stay open in collection.
Nothing on or after the data end is kept, so invoices not yet fully paid by then are open.
Amounts are handled in integer cents so that instalments sum exactly to the invoice amount.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskmodel.sample.calendar import (
    NEVER,
    Calendar,
    next_business_day,
    previous_business_day,
    uniform_days,
)
from riskmodel.sample.events import Resolutions
from riskmodel.sample.invoices import InvoiceDraft

_INSTALMENT_GAP_DAYS = (10, 35)
_WRITE_OFF_SHARE = 0.85  # unpaid invoices of a non-restructured defaulter that get written off
_WRITE_OFF_AFTER_DUE_DAYS = (120, 240)
_RECOVERY_AFTER_DUE_DAYS = 30  # a restructuring agreement never pays before this


@dataclass(frozen=True)
class Settlement:
    """Outcome per invoice (shape (n_invoices,)) and payment rows (shape (n_payments,)), censored at the end.

    Days are :data:`NEVER` when the thing has not happened before the data end.
    """

    settled_day: np.ndarray
    written_off_day: np.ndarray
    dispute_day: np.ndarray
    payment_invoice: np.ndarray  # index into the invoices
    payment_day: np.ndarray
    payment_cents: np.ndarray
    first_write_off_day: np.ndarray  # per customer, shape (n_customers,)
    has_unpaid_exposure: np.ndarray  # per customer: owed money when it defaulted


def _instalments(rng: np.random.Generator, draft: InvoiceDraft) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every planned payment (invoice index, day, cents), the last one on the scheduled day."""
    n_inst = draft.n_instalments
    row_invoice = np.repeat(np.arange(draft.n, dtype=np.int64), n_inst)
    first_row = np.cumsum(n_inst) - n_inst
    steps_before_last = n_inst[row_invoice] - 1 - (np.arange(len(row_invoice)) - first_row[row_invoice])
    gap = uniform_days(rng, *_INSTALMENT_GAP_DAYS, draft.n)
    day = draft.scheduled_day[row_invoice] - steps_before_last * gap[row_invoice]
    day = np.maximum(previous_business_day(day), draft.issue_day[row_invoice])

    cents = draft.amount_cents[row_invoice]
    partial = np.flatnonzero(n_inst > 1)
    slots = np.arange(3)
    used = slots[None, :] < n_inst[partial, None]
    weights = rng.uniform(0.25, 1.0, (len(partial), 3)) * used
    total = draft.amount_cents[partial]
    parts = np.floor(total[:, None] * weights / weights.sum(axis=1, keepdims=True)).astype(np.int64)
    last = n_inst[partial] - 1
    rows = np.arange(len(partial))
    parts[rows, last] = total - (parts.sum(axis=1) - parts[rows, last])
    cents[(first_row[partial, None] + slots[None, :])[used]] = parts[used]
    return row_invoice, day, cents


def settle_invoices(
    rng: np.random.Generator,
    draft: InvoiceDraft,
    default_day: np.ndarray,
    res: Resolutions,
    n_customers: int,
    cal: Calendar,
) -> Settlement:
    """Apply defaults, recoveries, write-offs and the data end to the planned payments."""
    row_invoice, row_day, row_cents = _instalments(rng, draft)
    customer_default = default_day[draft.customer]
    unpaid = draft.scheduled_day >= customer_default
    restructured = res.restructured[draft.customer]

    recovered = unpaid & restructured
    recovery_day = np.where(
        recovered,
        next_business_day(
            np.maximum(res.recovery_day[draft.customer], draft.due_day + _RECOVERY_AFTER_DUE_DAYS)
        ),
        NEVER,
    )
    written_off = unpaid & ~restructured & (rng.random(draft.n) < _WRITE_OFF_SHARE)
    write_off_day = np.maximum(
        draft.due_day + uniform_days(rng, *_WRITE_OFF_AFTER_DUE_DAYS, draft.n), customer_default + 30
    )
    write_off_day = np.where(written_off, next_business_day(write_off_day), NEVER)

    settled_day = np.where(unpaid, recovery_day, draft.scheduled_day)
    settled_day = np.where(settled_day < cal.end, settled_day, NEVER)
    write_off_day = np.where(write_off_day < cal.end, write_off_day, NEVER)
    dispute_day = np.where(draft.dispute_day < cal.end, draft.dispute_day, NEVER)

    before_default = row_day < customer_default[row_invoice]
    paid_before_default = np.bincount(
        row_invoice, weights=np.where(before_default, row_cents, 0), minlength=draft.n
    ).astype(np.int64)
    keep = before_default & (row_day < cal.end)
    recovery = np.flatnonzero(recovery_day < cal.end)
    payment_invoice = np.concatenate([row_invoice[keep], recovery])
    payment_day = np.concatenate([row_day[keep], recovery_day[recovery]])
    payment_cents = np.concatenate(
        [row_cents[keep], draft.amount_cents[recovery] - paid_before_default[recovery]]
    )
    # Stable: instalments of one invoice that fall on the same day keep their planned order, so the
    # payment ids do not depend on the sort algorithm numpy picks for the machine.
    order = np.argsort(payment_day * (1 << 32) + payment_invoice, kind="stable")

    first_write_off_day = np.full(n_customers, NEVER, dtype=np.int64)
    booked = write_off_day < NEVER
    np.minimum.at(first_write_off_day, draft.customer[booked], write_off_day[booked])
    return Settlement(
        settled_day=settled_day,
        written_off_day=write_off_day,
        dispute_day=dispute_day,
        payment_invoice=payment_invoice[order],
        payment_day=payment_day[order],
        payment_cents=payment_cents[order],
        first_write_off_day=first_write_off_day,
        has_unpaid_exposure=np.bincount(draft.customer[unpaid], minlength=n_customers) > 0,
    )
