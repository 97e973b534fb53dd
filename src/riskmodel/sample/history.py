"""Dated customer facts of the synthetic book (``customer_history``): limit reviews and bureau reports.

Every six months after onboarding (at a random phase for the starting book) a new bureau
report arrives, its score moving with the customer's latent health; every other time the
credit officer also reviews the limit: it is cut by half after an invoice went 60 or more days
past due in the past year (the collection tier where supply stops) and raised by a fifth after a
clean year (no invoice more than 5 days late). A single slip of 30 days does not cut: with
lateness that common, halving at 30 days would cut almost half of all reviews and, over five
years, leave most of the book far above its limit. Reviews stop at default or churn. The
``customers`` row keeps the values at onboarding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.sample.calendar import Calendar, to_datetime
from riskmodel.sample.customers import _HEALTH_BASE, CustomerBook
from riskmodel.sample.health import HealthPaths
from riskmodel.sample.invoices import InvoiceDraft
from riskmodel.sample.payments import Settlement

REVIEW_EVERY_MONTHS = 6
CUT_AFTER_DAYS_LATE = 60
CLEAN_WITHIN_DAYS_LATE = 5
CUT, RAISE = 0.5, 1.2
_LOOKBACK_DAYS = 365
_KEY_SPAN = 1 << 32  # more days than any simulated date: (customer, day) packed in one int64


def _reviews(rng: np.random.Generator, book: CustomerBook, paths: HealthPaths, cal: Calendar) -> pd.DataFrame:
    """One row per review: customer index, review number, simulated month and day."""
    per_customer = cal.months // REVIEW_EVERY_MONTHS + 1
    phase = rng.integers(0, REVIEW_EVERY_MONTHS, book.n)
    first = np.where(book.onboarding_month < 0, phase, book.onboarding_month + REVIEW_EVERY_MONTHS)
    customer = np.repeat(np.arange(book.n), per_customer)
    number = np.tile(np.arange(per_customer), book.n)
    month = first[customer] + REVIEW_EVERY_MONTHS * number
    keep = month < cal.months
    customer, number, month = customer[keep], number[keep], month[keep]
    day = cal.uniform_day(rng, month)
    ends = np.minimum(paths.default_day, paths.churn_day)[customer]
    alive = day < np.minimum(ends, cal.end)
    return pd.DataFrame(
        {"customer": customer[alive], "number": number[alive], "month": month[alive], "day": day[alive]}
    )


def _worst_days_late(reviews: pd.DataFrame, draft: InvoiceDraft, settled_day: np.ndarray) -> np.ndarray:
    """Per review: the most days past due any invoice reached in the year before it (NaN: none due).

    Invoices are sorted by (customer, due day), so each review's invoices, those of its customer
    due in the year before it, are one contiguous run: the work grows with the invoices in those
    windows, not with reviews times invoices.
    """
    key = draft.customer * _KEY_SPAN + draft.due_day
    order = np.argsort(key, kind="stable")
    key, due, settled = key[order], draft.due_day[order], settled_day[order]
    day = reviews["day"].to_numpy()
    review_key = reviews["customer"].to_numpy() * _KEY_SPAN + day
    first = np.searchsorted(key, review_key - _LOOKBACK_DAYS, side="left")
    count = np.searchsorted(key, review_key, side="left") - first  # due before the review day
    run_start = np.cumsum(count) - count
    pair_review = np.repeat(np.arange(len(reviews)), count)
    pair_invoice = np.arange(count.sum()) - np.repeat(run_start - first, count)
    late = np.minimum(settled[pair_invoice], day[pair_review]) - due[pair_invoice]
    worst = np.full(len(reviews), np.nan)
    has_due = count > 0
    worst[has_due] = np.maximum.reduceat(late, run_start[has_due])
    return worst


def customer_history_frame(
    rng: np.random.Generator,
    book: CustomerBook,
    paths: HealthPaths,
    draft: InvoiceDraft,
    settlement: Settlement,
    customers: pd.DataFrame,
    cal: Calendar,
) -> pd.DataFrame:
    """The ``customer_history`` table: ``customer_id, date, credit_limit, bureau_score``."""
    reviews = _reviews(rng, book, paths, cal)
    customer = reviews["customer"].to_numpy()
    health = paths.health[customer, reviews["month"].to_numpy()].astype(np.float64)
    h = (health - _HEALTH_BASE) / 1.1
    bureau = np.clip(
        np.round(55.0 + 10.0 * h + 3.0 * book.log_size[customer] + rng.normal(0, 6, len(h))), 1, 100
    )
    bureau[np.isnan(customers["bureau_score"].to_numpy()[customer])] = np.nan  # no bureau file, no reports
    worst = _worst_days_late(reviews, draft, settlement.settled_day)
    limit_review = (reviews["number"].to_numpy() % 2) == 1
    factor = np.ones(len(reviews))
    factor[limit_review & (worst >= CUT_AFTER_DAYS_LATE)] = CUT
    factor[limit_review & (worst <= CLEAN_WITHIN_DAYS_LATE)] = RAISE
    running = pd.Series(factor).groupby(customer).cumprod().to_numpy()
    limit = np.round(book.credit_limit[customer] * running, -2)
    limit[factor == 1.0] = np.nan  # no change: the row does not give the limit
    frame = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[customer],
            "date": to_datetime(reviews["day"].to_numpy(), cal.end),
            "credit_limit": limit,
            "bureau_score": bureau,
        }
    )
    given = frame["credit_limit"].notna() | frame["bureau_score"].notna()
    return frame[given].sort_values(["customer_id", "date"], ignore_index=True)
