"""Monthly latent-health paths, defaults and churn of the synthetic customer book.

Health follows a mean-reverting AR(1) per customer with idiosyncratic shocks, a small common
(macro) factor and industry downturns: an industry in a downturn pushes all its customers down
for several months at once, so defaults cluster. A customer defaults (stops paying) in the first
month its health is below 0, or, rarely, suddenly (fraud, loss of a key contract). Customers may
also churn: they stop buying without defaulting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskmodel.sample.calendar import NEVER, Calendar, nearest_business_day
from riskmodel.sample.customers import INDUSTRIES, CustomerBook

_PERSISTENCE = 0.95  # monthly AR(1) coefficient of health around its long-run mean
_SHOCK_SD = 0.3  # idiosyncratic monthly shock
_MACRO_SD = 0.03  # common monthly shock
_DOWNTURN_START_PROB = 0.02  # per industry and month
_DOWNTURN_MONTHS = (4, 9)
_DOWNTURN_PUSH = (0.06, 0.14)  # health lost per downturn month
_SUDDEN_DEFAULT_PROB = 0.0006  # per customer-month, regardless of health
_CHURN_PROB = 0.01  # per customer-month, before the size adjustment


@dataclass(frozen=True)
class HealthPaths:
    """Health per customer and month, shape (n, months), plus default and churn days (NEVER if none)."""

    health: np.ndarray
    default_day: np.ndarray
    churn_day: np.ndarray


def _industry_shocks(rng: np.random.Generator, months: int) -> np.ndarray:
    """Health push per industry and month, shape (n_industries, months); negative during downturns."""
    shocks = np.zeros((len(INDUSTRIES), months))
    starts = np.argwhere(rng.random((len(INDUSTRIES), months)) < _DOWNTURN_START_PROB)
    lengths = rng.integers(_DOWNTURN_MONTHS[0], _DOWNTURN_MONTHS[1] + 1, len(starts))
    pushes = rng.uniform(*_DOWNTURN_PUSH, len(starts))
    for (industry, month), length, push in zip(starts, lengths, pushes, strict=True):
        shocks[industry, month : month + length] -= push
    return shocks


def simulate_health(rng: np.random.Generator, book: CustomerBook, cal: Calendar) -> HealthPaths:
    """Simulate health month by month (vectorised over customers) and the resulting defaults and churn.

    A customer's health starts evolving in the month after onboarding (at the data start for the
    starting book); defaults and churn can only happen from then on, and only once.
    """
    n, months = book.n, cal.months
    industry_shocks = _industry_shocks(rng, months)
    macro = rng.normal(0.0, _MACRO_SD, months)
    churn_prob = _CHURN_PROB * np.exp(-0.2 * book.log_size)

    health = np.empty((n, months), dtype=np.float32)
    default_day = np.full(n, NEVER, dtype=np.int64)
    churn_day = np.full(n, NEVER, dtype=np.int64)
    h = book.health_start.copy()
    for m in range(months):
        started = book.onboarding_month < m
        step = (
            book.health_mean
            + _PERSISTENCE * (h - book.health_mean)
            + _SHOCK_SD * rng.standard_normal(n)
            + industry_shocks[book.industry, m]
            + macro[m]
        )
        h = np.where(started, step, h)
        health[:, m] = h

        at_risk = started & (default_day == NEVER) & (churn_day == NEVER)
        defaults = at_risk & ((h < 0.0) | (rng.random(n) < _SUDDEN_DEFAULT_PROB))
        churns = at_risk & ~defaults & (rng.random(n) < churn_prob)
        idx = np.flatnonzero(defaults | churns)
        day = cal.uniform_day(rng, np.full(len(idx), m))
        day = np.clip(nearest_business_day(day), cal.month_starts[m], cal.month_starts[m + 1] - 1)
        default_day[idx] = np.where(defaults[idx], day, NEVER)
        churn_day[idx] = np.where(churns[idx], day, NEVER)
    return HealthPaths(health=health, default_day=default_day, churn_day=churn_day)
