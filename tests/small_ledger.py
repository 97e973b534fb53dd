"""A ledger shaped like a small real one: tens of customers, a few thousand invoices, one terms value, no payments.

What an ERP export of a small trade-credit book tends to hold: ``customers`` (id, name,
onboarding date, limit, terms, country, industry; no bureau score or revenue) and
``invoices`` with ``settled_date`` (no ``payments`` table, no ``events``). Every invoice is
on 30-day terms. Four behaviour profiles, assigned round-robin so the counts are fixed:

* ``prompt``  pays around the due date;
* ``slow``    pays two to three weeks late;
* ``erratic`` mostly on time, now and then 40-70 days late, with disputes;
* ``failing`` pays like ``slow`` until a break date, then stops paying (invoices stay open
  past 90 days and some are written off): a default.

Four customers fail, far fewer than ``min_positives`` (30), so no default model can be
registered on it, while the late invoices are plenty for the late-payment model.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

START = dt.date(2022, 1, 1)
END = dt.date(2024, 12, 31)  # the ledger's data end
TERMS_DAYS = 30
N_CUSTOMERS = 40
PROFILES = ("prompt", "slow", "prompt", "slow", "erratic", "prompt", "slow", "erratic", "prompt", "failing")


def profiles() -> dict[str, str]:
    """Behaviour profile of each customer id (fixed: 16 prompt, 12 slow, 8 erratic, 4 failing)."""
    return {f"K{i + 1:03d}": PROFILES[i % len(PROFILES)] for i in range(N_CUSTOMERS)}


def _customers(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for number, customer_id in enumerate(profiles(), start=1):
        if number % 4 == 0:  # a quarter came during the ledger's years
            onboarded = START + dt.timedelta(days=int(rng.integers(30, 700)))
        else:
            onboarded = dt.date(int(rng.integers(2012, 2021)), int(rng.integers(1, 13)), 1)
        rows.append(
            {
                "customer_id": customer_id,
                "name": f"Customer {number} Ltd",
                "onboarding_date": onboarded.isoformat(),
                "credit_limit": float(rng.choice([10_000, 25_000, 50_000, 100_000])),
                "payment_terms_days": TERMS_DAYS,
                "country": str(rng.choice(["DE", "FR", "NL", "PL"])),
                "industry": str(rng.choice(["wholesale", "construction", "retail", "manufacturing"])),
            }
        )
    return pd.DataFrame(rows)


def _delays(profile: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Days beyond terms of ``n`` invoices paid under ``profile`` (before any failure)."""
    if profile == "prompt":
        return np.rint(rng.normal(-2, 4, n))
    if profile == "erratic":
        late = rng.random(n) < 0.15
        return np.where(late, rng.integers(40, 71, n), np.rint(rng.normal(0, 5, n)))
    return np.rint(5 + rng.gamma(2.0, 7.0, n))  # slow, and failing before the break


def _invoices(customers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    kinds = profiles()
    for customer in customers.itertuples():
        first = max(START, dt.date.fromisoformat(customer.onboarding_date))
        days = (END - first).days
        n = int(rng.poisson(days / 365 * 26))  # about one invoice a fortnight
        issue = pd.to_datetime(first) + pd.to_timedelta(np.sort(rng.integers(0, days + 1, n)), unit="D")
        due = issue + pd.Timedelta(days=TERMS_DAYS)
        delay = _delays(kinds[customer.customer_id], n, rng)
        disputed = rng.random(n) < (0.06 if kinds[customer.customer_id] == "erratic" else 0.01)
        delay = np.where(disputed, delay + 35, delay)
        settled = due + pd.to_timedelta(delay, unit="D")
        settled = settled.where(settled > issue, issue + pd.Timedelta(days=1))
        written_off = pd.Series(pd.NaT, index=issue, dtype="datetime64[ns]").reset_index(drop=True)
        if kinds[customer.customer_id] == "failing":
            broke = pd.Timestamp(first) + pd.Timedelta(days=int(rng.integers(days // 3, 2 * days // 3)))
            stopped = issue >= broke - pd.Timedelta(days=60)  # invoices of the last two months and after
            settled = settled.where(~stopped, pd.NaT)
            written_off = (due + pd.Timedelta(days=200)).where(stopped, pd.NaT)  # later ones stay open
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": customer.customer_id,
                    "issue_date": issue,
                    "due_date": due,
                    "amount": np.round(rng.lognormal(np.log(customer.credit_limit / 4), 0.5, n), 2),
                    "settled_date": settled,
                    "dispute_date": (due + pd.Timedelta(days=5)).where(disputed, pd.NaT),
                    "written_off_date": written_off,
                }
            )
        )
    invoices = pd.concat(frames, ignore_index=True).sort_values(
        ["issue_date", "customer_id"], ignore_index=True
    )
    end = pd.Timestamp(END)
    for column in ("settled_date", "dispute_date", "written_off_date"):  # unknown at the data end: empty
        invoices[column] = invoices[column].where(invoices[column] <= end, pd.NaT)
    invoices = invoices[invoices["issue_date"] <= end]
    invoices.insert(0, "invoice_id", [f"INV{n:06d}" for n in range(1, len(invoices) + 1)])
    return invoices


def write_small_ledger(folder: Path, seed: int = 3) -> Path:
    """Write ``customers.csv`` and ``invoices.csv`` (dates as ``YYYY-MM-DD``, empty when unknown) into ``folder``."""
    rng = np.random.default_rng(seed)
    customers = _customers(rng)
    invoices = _invoices(customers, rng)
    folder.mkdir(parents=True, exist_ok=True)
    customers.to_csv(folder / "customers.csv", index=False)
    dates = ["issue_date", "due_date", "settled_date", "dispute_date", "written_off_date"]
    invoices.assign(**{c: invoices[c].dt.strftime("%Y-%m-%d") for c in dates}).to_csv(
        folder / "invoices.csv", index=False
    )
    return folder
