"""Synthetic customer book: arrival, size, industry, country, terms, habits and firmographics.

Each customer gets a latent financial health on a logit-like scale (higher is healthier; the
customer defaults when it falls below 0, see :mod:`riskmodel.sample.health`). The
firmographics recorded at onboarding are noisy functions of size and the health at that time,
so they carry signal about later default without revealing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.sample.calendar import Calendar, nearest_business_day, to_datetime
from riskmodel.sample.ids import format_ids, id_width

INDUSTRIES: tuple[str, ...] = (
    "manufacturing",
    "wholesale",
    "retail",
    "construction",
    "transport",
    "it_services",
    "healthcare",
    "hospitality",
)
_INDUSTRY_SHARE = np.array([0.22, 0.18, 0.14, 0.12, 0.10, 0.10, 0.07, 0.07])
_INDUSTRY_HEALTH = np.array([0.0, -0.1, -0.35, -0.55, -0.3, 0.15, 0.45, -0.6])
TERMS_DAYS = np.array([30, 45, 60, 90], dtype=np.int64)
_INDUSTRY_TERMS = np.array(
    [
        [0.25, 0.25, 0.35, 0.15],  # manufacturing
        [0.45, 0.30, 0.20, 0.05],  # wholesale
        [0.65, 0.25, 0.10, 0.00],  # retail
        [0.15, 0.20, 0.35, 0.30],  # construction
        [0.50, 0.30, 0.15, 0.05],  # transport
        [0.55, 0.25, 0.15, 0.05],  # it_services
        [0.20, 0.20, 0.30, 0.30],  # healthcare
        [0.70, 0.25, 0.05, 0.00],  # hospitality
    ]
)

COUNTRIES: tuple[str, ...] = ("DE", "FR", "GB", "NL", "IT", "ES", "PL", "SE", "BE", "US")
_COUNTRY_SHARE = np.array([0.24, 0.15, 0.13, 0.08, 0.10, 0.08, 0.07, 0.05, 0.04, 0.06])
_COUNTRY_DELAY_DAYS = np.array([-2.5, 1.0, 0.0, -1.5, 5.0, 4.0, 1.5, -3.5, -0.5, 0.0])
_COUNTRY_SUFFIX = ("GmbH", "SAS", "Ltd", "B.V.", "S.r.l.", "S.L.", "Sp. z o.o.", "AB", "SRL", "Inc.")
_NAME_FIRST = (
    "Alpha Nordic Blue Central Euro Prime Summit Delta Atlas Green "
    "Silver United Apex Coastal Metro Vertex Pioneer Orion Rhein Iberia"
).split()
_NAME_SECOND = (
    "Logistics Foods Systems Industries Trading Builders Components Retail "
    "Health Solutions Textiles Motors Hotels Supply Tech Materials"
).split()

_BOOK_SHARE = 0.6  # share of customers already on the book at the data start
_BOOK_TENURE_MEAN_DAYS = 3 * 365
_HEALTH_BASE = 3.1  # mean latent health of a typical customer
_ONBOARDING_FLOOR = 0.8  # applicants weaker than this at onboarding are turned away (redrawn)
_MISSING_SHARE = {  # share of firmographics left empty, before the small-firm uplift
    "annual_revenue": 0.08,
    "years_in_business": 0.04,
    "employees": 0.10,
    "registered_capital": 0.15,
    "bureau_score": 0.06,
}


@dataclass(frozen=True)
class CustomerBook:
    """Per-customer arrays of shape (n,), customers ordered by onboarding day."""

    onboarding_day: np.ndarray
    onboarding_month: np.ndarray  # simulated month of onboarding, -1 = before the data start
    log_size: np.ndarray  # standard normal; size = exp(log_size)
    industry: np.ndarray
    country: np.ndarray
    terms_days: np.ndarray
    health_mean: np.ndarray  # long-run level of the latent health
    health_start: np.ndarray  # latent health at onboarding (or at the data start for the book)
    habit_days: np.ndarray  # typical days beyond terms when healthy (negative = pays early)
    invoice_rate: np.ndarray  # mean invoices per month before seasonality and stress
    amount_log_mean: np.ndarray  # mean log invoice amount
    credit_limit: np.ndarray

    @property
    def n(self) -> int:
        return len(self.onboarding_day)


def _choose(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of ``probs`` (shape (n, k)), vectorised inverse-CDF sampling."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return (u > cum).sum(axis=1)


def _draw_habits(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Typical days beyond terms per customer, by payment-behaviour segment and country.

    Segments: early payers (24 %), payment runs just before the due date (42 %), habitual late
    payers (26 %) and chronic slow payers who are nonetheless solvent (8 %).
    """
    n = len(country)
    segment = _choose(rng, np.tile([0.24, 0.42, 0.26, 0.08], (n, 1)))
    habit = np.select(
        [segment == 0, segment == 1, segment == 2],
        [-rng.uniform(2.0, 12.0, n), rng.normal(-2.5, 1.0, n), rng.gamma(2.0, 4.0, n)],
        rng.uniform(15.0, 40.0, n),
    )
    return habit + _COUNTRY_DELAY_DAYS[country]


def draw_customers(rng: np.random.Generator, n: int, cal: Calendar) -> CustomerBook:
    """Draw ``n`` customers: a starting book plus arrivals spread over the simulated months."""
    n_book = int(round(n * _BOOK_SHARE))
    tenure = np.minimum(30 + rng.exponential(_BOOK_TENURE_MEAN_DAYS, n_book), 20 * 365).astype(np.int64)
    arrival_month = rng.integers(0, cal.months, n - n_book)
    onboarding_day = np.sort(np.concatenate([cal.start - tenure, cal.uniform_day(rng, arrival_month)]))
    onboarding_day = np.clip(nearest_business_day(onboarding_day), None, cal.end - 1)

    log_size = rng.standard_normal(n)
    industry = _choose(rng, np.tile(_INDUSTRY_SHARE, (n, 1)))
    country = _choose(rng, np.tile(_COUNTRY_SHARE, (n, 1)))
    terms_idx = _choose(rng, _INDUSTRY_TERMS[industry])
    bigger = rng.random(n) < 0.35 * (log_size > 0.8)  # large customers negotiate longer terms
    terms_days = TERMS_DAYS[np.minimum(terms_idx + bigger, 3)]

    health_mean = _HEALTH_BASE + _INDUSTRY_HEALTH[industry] + 0.25 * log_size + rng.normal(0.0, 0.75, n)
    health_start = health_mean + rng.normal(0.0, 0.8, n)
    rejected = health_start < _ONBOARDING_FLOOR
    health_start[rejected] = _ONBOARDING_FLOOR + np.abs(rng.normal(0.0, 0.5, rejected.sum()))

    invoice_rate = 1.6 * np.exp(0.55 * log_size)
    amount_log_mean = 7.3 + 0.45 * log_size + rng.normal(0.0, 0.3, n)
    monthly_sales = invoice_rate * np.exp(amount_log_mean + 0.5 * 0.85**2)
    limit = monthly_sales * (terms_days / 30 + 1.0) * np.exp(rng.normal(0.0, 0.35, n))
    credit_limit = np.maximum(1000.0, np.round(limit / 1000.0) * 1000.0)

    return CustomerBook(
        onboarding_day=onboarding_day,
        onboarding_month=cal.month_of(onboarding_day),
        log_size=log_size,
        industry=industry,
        country=country,
        terms_days=terms_days,
        health_mean=health_mean,
        health_start=health_start,
        habit_days=_draw_habits(rng, country),
        invoice_rate=invoice_rate,
        amount_log_mean=amount_log_mean,
        credit_limit=credit_limit,
    )


def _firmographics(rng: np.random.Generator, book: CustomerBook) -> dict[str, np.ndarray]:
    """Application data at onboarding: noisy in size and onboarding health, with realistic gaps."""
    n = book.n
    z = book.log_size
    h = (book.health_start - _HEALTH_BASE) / 1.1  # roughly standardised onboarding health
    revenue = np.round(np.exp(14.6 + 1.1 * z + 0.1 * h + rng.normal(0.0, 0.35, n)), -3)
    employees = np.maximum(1.0, np.round(revenue / np.exp(rng.normal(11.8, 0.5, n))))
    years = np.clip(np.round(np.exp(2.1 + 0.2 * z + 0.25 * h + rng.normal(0.0, 0.6, n))), 0.0, 150.0)
    capital = np.round(revenue * np.exp(-2.4 + 0.25 * h + rng.normal(0.0, 1.0, n)), -2)
    bureau = np.clip(np.round(55.0 + 10.0 * h + 3.0 * z + rng.normal(0.0, 12.0, n)), 1.0, 100.0)
    columns = {
        "annual_revenue": revenue,
        "years_in_business": years,
        "employees": employees,
        "registered_capital": capital,
        "bureau_score": bureau,
    }
    small_uplift = 1.0 + 0.6 * (z < -0.5)  # small firms file less data
    for name, values in columns.items():
        values[rng.random(n) < _MISSING_SHARE[name] * small_uplift] = np.nan
    return columns


def _names(rng: np.random.Generator, book: CustomerBook) -> list[str]:
    first = np.asarray(_NAME_FIRST)[rng.integers(0, len(_NAME_FIRST), book.n)]
    second = np.asarray(_NAME_SECOND)[rng.integers(0, len(_NAME_SECOND), book.n)]
    suffix = np.asarray(_COUNTRY_SUFFIX)[book.country]
    return [f"{a} {b} {c}" for a, b, c in zip(first.tolist(), second.tolist(), suffix.tolist(), strict=True)]


def customers_frame(rng: np.random.Generator, book: CustomerBook, cal: Calendar) -> pd.DataFrame:
    """The ``customers`` table (DESIGN.md columns) for the book."""
    return pd.DataFrame(
        {
            "customer_id": format_ids("C", np.arange(1, book.n + 1), id_width(book.n, 6)),
            "onboarding_date": to_datetime(book.onboarding_day, cal.end),
            "name": pd.array(_names(rng, book), dtype="str"),
            "country": pd.array(np.asarray(COUNTRIES)[book.country], dtype="str"),
            "industry": pd.array(np.asarray(INDUSTRIES)[book.industry], dtype="str"),
            "credit_limit": book.credit_limit,
            "payment_terms_days": book.terms_days.astype(np.int64),
            **_firmographics(rng, book),
        }
    )
