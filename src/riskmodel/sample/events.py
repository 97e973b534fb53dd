"""What happens after a synthetic customer defaults: collection path and credit events.

A defaulted customer keeps receiving deliveries for a few weeks, until credit control puts the
unpaid account on hold. It then either restructures (its open invoices are paid late under an agreement)
or goes down the legal path (formal demand, legal action, bankruptcy, write-offs). Larger
exposures are often insured, giving an insurance claim. Every event date falls after the
default day; dates on or after the data end are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.sample.calendar import NEVER, Calendar, next_business_day, to_datetime, uniform_days
from riskmodel.sample.customers import CustomerBook

_RESTRUCTURE_PROB = 0.2
_LEGAL_ACTION_PROB = 0.6
_BANKRUPTCY_PROB = 0.4
_HOLD_AFTER_DEFAULT_DAYS = (20, 60)


@dataclass(frozen=True)
class Resolutions:
    """Post-default path per customer, arrays of shape (n,); days are NEVER when it does not happen."""

    hold_day: np.ndarray  # credit control stops supplying the customer from this day on
    restructure_day: np.ndarray
    recovery_day: np.ndarray  # restructured customers pay their open invoices from this day
    legal_action_day: np.ndarray
    bankruptcy_day: np.ndarray
    insurance_claim_day: np.ndarray

    @property
    def restructured(self) -> np.ndarray:
        return self.restructure_day < NEVER


def draw_resolutions(rng: np.random.Generator, book: CustomerBook, default_day: np.ndarray) -> Resolutions:
    """Draw the collection path of every defaulted customer (days relative to its default day)."""
    n = book.n
    defaulted = default_day < NEVER

    def after(prob: np.ndarray | float, low: int, high: int, mask: np.ndarray = defaulted) -> np.ndarray:
        happens = mask & (rng.random(n) < prob)
        days = next_business_day(default_day + uniform_days(rng, low, high, n))
        return np.where(happens, days, NEVER)

    restructure_day = after(_RESTRUCTURE_PROB, 20, 90)
    legal_path = defaulted & (restructure_day == NEVER)
    recovery_day = np.where(
        restructure_day < NEVER, next_business_day(restructure_day + uniform_days(rng, 14, 60, n)), NEVER
    )
    legal_action_day = after(_LEGAL_ACTION_PROB, 45, 150, legal_path)
    bankruptcy_day = after(_BANKRUPTCY_PROB, 10, 240, legal_path)
    insurance_claim_day = after(0.15 + 0.35 * (book.log_size > 0.5), 60, 180)
    # deliveries go on until the unpaid account is put on hold, and never past the first event
    first_event = np.minimum.reduce([restructure_day, legal_action_day, bankruptcy_day, insurance_claim_day])
    hold_day = np.minimum(default_day + uniform_days(rng, *_HOLD_AFTER_DEFAULT_DAYS, n), first_event)
    return Resolutions(
        hold_day=np.where(defaulted, hold_day, NEVER),
        restructure_day=restructure_day,
        recovery_day=recovery_day,
        legal_action_day=legal_action_day,
        bankruptcy_day=bankruptcy_day,
        insurance_claim_day=insurance_claim_day,
    )


def events_frame(
    res: Resolutions,
    first_write_off_day: np.ndarray,
    has_exposure: np.ndarray,
    customer_ids: pd.Series,
    cal: Calendar,
) -> pd.DataFrame:
    """The ``events`` table: one row per customer and event type, sorted by date, all before the data end.

    Only customers that owed money when they defaulted (``has_exposure``, shape (n,)) get events:
    a supplier does not sue, claim on insurance or restructure over a zero balance.
    """
    by_type = {
        "restructuring": res.restructure_day,
        "legal_action": res.legal_action_day,
        "bankruptcy": res.bankruptcy_day,
        "insurance_claim": res.insurance_claim_day,
        "write_off": first_write_off_day,
    }
    customers, days, types = [], [], []
    for name, day in by_type.items():
        idx = np.flatnonzero((day < cal.end) & has_exposure)
        customers.append(idx)
        days.append(day[idx])
        types.append(np.full(len(idx), name))
    customer = np.concatenate(customers)
    day = np.concatenate(days)
    order = np.lexsort((customer, day))
    return pd.DataFrame(
        {
            "customer_id": customer_ids.iloc[customer[order]].reset_index(drop=True),
            "date": to_datetime(day[order], cal.end),
            "type": pd.array(np.concatenate(types)[order], dtype="str"),
        }
    )
