"""The synthetic ledger generator: runs the stages in order and builds the tables.

The stages live in :mod:`~riskmodel.sample.customers`, :mod:`~riskmodel.sample.health`,
:mod:`~riskmodel.sample.events`, :mod:`~riskmodel.sample.invoices` and
:mod:`~riskmodel.sample.payments` (and :mod:`~riskmodel.sample.history`); this module wires them and builds the tables.
"""

from __future__ import annotations

import logging
import time
from datetime import date

import numpy as np
import pandas as pd

from riskmodel.sample.calendar import Calendar, to_datetime
from riskmodel.sample.customers import customers_frame, draw_customers
from riskmodel.sample.events import draw_resolutions, events_frame
from riskmodel.sample.health import simulate_health
from riskmodel.sample.history import customer_history_frame
from riskmodel.sample.ids import format_ids, id_width
from riskmodel.sample.invoices import InvoiceDraft, draft_invoices
from riskmodel.sample.payments import Settlement, settle_invoices

logger = logging.getLogger(__name__)

__all__ = ["SAMPLE_MONTHS", "SAMPLE_START", "make_sample_tables"]

SAMPLE_START = date(2021, 1, 1)
"""First day of the default period: the committed ``data/sample`` covers 2021–2025."""
SAMPLE_MONTHS = 60
"""Length of the default period; its data end (exclusive) is 2026-01-01."""


def _cents_to_amount(cents: np.ndarray) -> np.ndarray:
    return np.round(cents / 100.0, 2)


def _invoices_frame(
    draft: InvoiceDraft, settlement: Settlement, n_customers: int, cal: Calendar
) -> pd.DataFrame:
    width = id_width(draft.n, 8)
    return pd.DataFrame(
        {
            "invoice_id": format_ids("INV", np.arange(1, draft.n + 1), width),
            "customer_id": format_ids("C", draft.customer + 1, id_width(n_customers, 6)),
            "issue_date": to_datetime(draft.issue_day, cal.end),
            "due_date": draft.due_day.astype("datetime64[D]").astype("datetime64[s]"),
            "amount": _cents_to_amount(draft.amount_cents),
            "settled_date": to_datetime(settlement.settled_day, cal.end),
            "dispute_date": to_datetime(settlement.dispute_day, cal.end),
            "written_off_date": to_datetime(settlement.written_off_day, cal.end),
        }
    )


def _payments_frame(settlement: Settlement, n_invoices: int, cal: Calendar) -> pd.DataFrame:
    n = len(settlement.payment_invoice)
    return pd.DataFrame(
        {
            "payment_id": format_ids("P", np.arange(1, n + 1), id_width(n, 8)),
            "invoice_id": format_ids("INV", settlement.payment_invoice + 1, id_width(n_invoices, 8)),
            "payment_date": to_datetime(settlement.payment_day, cal.end),
            "amount": _cents_to_amount(settlement.payment_cents),
        }
    )


def make_sample_tables(
    n_customers: int = 1000,
    seed: int = 0,
    start: date = SAMPLE_START,
    months: int = SAMPLE_MONTHS,
    history: bool = True,
) -> dict[str, pd.DataFrame]:
    """Generate a realistic synthetic ledger, deterministic for a seed.

    The defaults make the committed sample ``data/sample`` (five years, 2021–2025, with history).

    Parameters
    ----------
    n_customers : int
        Customers in the book over the whole period (a starting book of 60 % plus arrivals).
    seed : int
        Seed of the random generator; the same seed gives identical tables.
    start : date
        First day of the simulated period.
    months : int
        Length of the period. The data end is ``start + months`` (exclusive): no issue, payment,
        settlement, dispute, write-off or event falls on or after it, and invoices not fully paid
        by then are open.
    history : bool
        Also make ``customer_history`` (limit reviews and bureau reports,
        :mod:`riskmodel.sample.history`). On by default; ``False`` leaves it out, and the other
        tables are the same either way.

    Returns
    -------
    dict[str, pd.DataFrame]
        The raw tables ``customers``, ``invoices``, ``payments``, ``events`` (and
        ``customer_history`` with ``history``) with the columns
        of DESIGN.md. Dates are ``datetime64[s]`` (NaT when empty), ids are strings, amounts are
        float64 in cents precision. About 70 invoices per customer over 60 months.

    Examples
    --------
    >>> tables = make_sample_tables(n_customers=50, seed=1, months=12)
    >>> sorted(tables)
    ['customer_history', 'customers', 'events', 'invoices', 'payments']
    >>> sorted(make_sample_tables(n_customers=50, seed=1, months=12, history=False))
    ['customers', 'events', 'invoices', 'payments']
    >>> tables["customers"]["customer_id"].iloc[0]
    'C000001'
    """
    if n_customers < 1:
        raise ValueError(f"n_customers must be a positive integer; got {n_customers}")
    if months < 1:
        raise ValueError(f"months must be a positive integer; got {months}")
    began = time.perf_counter()
    cal = Calendar.from_start(start, months)
    rng_customers, rng_health, rng_events, rng_invoices, rng_payments, rng_firmographics, rng_history = (
        np.random.default_rng(seed).spawn(7)  # the first six streams do not depend on the seventh
    )

    book = draw_customers(rng_customers, n_customers, cal)
    paths = simulate_health(rng_health, book, cal)
    resolutions = draw_resolutions(rng_events, book, paths.default_day)
    draft = draft_invoices(rng_invoices, book, paths, resolutions.hold_day, cal)
    settlement = settle_invoices(rng_payments, draft, paths.default_day, resolutions, book.n, cal)

    customers = customers_frame(rng_firmographics, book, cal)
    tables = {
        "customers": customers,
        "invoices": _invoices_frame(draft, settlement, book.n, cal),
        "payments": _payments_frame(settlement, draft.n, cal),
        "events": events_frame(
            resolutions,
            settlement.first_write_off_day,
            settlement.has_unpaid_exposure,
            customers["customer_id"],
            cal,
        ),
    }
    if history:
        tables["customer_history"] = customer_history_frame(
            rng_history, book, paths, draft, settlement, customers, cal
        )
    logger.info(
        "sample ledger: %s in %.1f s",
        ", ".join(f"{len(frame):,} {name}" for name, frame in tables.items()),
        time.perf_counter() - began,
    )
    return tables
