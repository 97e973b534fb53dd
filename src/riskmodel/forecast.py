"""Cash-in forecast: expected collections by week from the open invoices' payment-timing distributions, and its backtest.

An invoice open at the end of ``as_of`` and ``d`` days past due settles in week ``w`` (the
days ``as_of + 7(w - 1) + 1`` to ``as_of + 7w``) with probability ``U(d + 7(w - 1)) - U(d + 7w)``,
``U`` being :meth:`~riskmodel.models.LatePaymentModel.unpaid_after` given the invoice's status
at ``as_of`` (days past due, dispute, share paid). Expected cash in week ``w`` is the sum over
the open invoices of open amount times that probability. What the weeks do not collect is the
expected amount still open after the last week (``remaining``): weeks and remainder add up to
the open book.

The 80 % band treats each invoice's payment in a week as a Bernoulli indicator, independent
across invoices: the week's cash has variance ``sum(open_amount**2 * p * (1 - p))`` and the
band is the normal approximation ``expected -/+ 1.2816 sd``, clipped at 0. Independence is an
assumption, and an optimistic one: a customer often pays several invoices in one run and a
slow month slows many customers, and the model's own error is not in it, so the band is
narrower than the real uncertainty (:class:`CashBacktest` measures its coverage).

The backtest forecasts at past month ends with a given model and compares each week with the
cash actually collected on the invoices open at the forecast date (the ledger's payments; a
ledger without a payments table has one payment per invoice on its settled date), next to two
baselines: every invoice paid on its due date, and on its due date plus the customer's
average delay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from riskmodel.exceptions import ForecastError
from riskmodel.features.invoice import invoice_features
from riskmodel.ledger.tables import Ledger
from riskmodel.models.pipeline import LatePaymentModel
from riskmodel.scoring import open_invoice_inputs, open_invoices, status_inputs

logger = logging.getLogger(__name__)

DEFAULT_WEEKS = 13
MAX_WEEKS = 104  # two years: beyond it nearly every invoice is settled or written off
BAND = 0.8
Z_BAND = NormalDist().inv_cdf(0.5 + BAND / 2)  # 1.2816: the central 80 % of a normal
WEEK_COLUMNS = ("week", "week_start", "week_end", "expected", "low", "high")
METHODS = {
    "model": "payment-timing model",
    "due_date": "paid on the due date",
    "average_delay": "due date + the customer's average delay",
}


@dataclass(frozen=True)
class CashForecast:
    """Expected collections by week of the invoices open at ``as_of``, with the 80 % band.

    Attributes
    ----------
    weeks
        ``WEEK_COLUMNS``: week number (1 = the seven days after ``as_of``), its first and last
        day, the expected cash and the band.
    open_amount
        The open book: what the invoices still owe at ``as_of``.
    remaining
        Expected amount still open after the last week (``open_amount`` minus the weeks' sum).
    """

    as_of: date
    weeks: pd.DataFrame
    open_amount: float
    remaining: float
    n_invoices: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``as_of, open_amount, expected_in_weeks, remaining, n_invoices, weeks[]``."""
        rows = [
            {
                "week": int(row.week),
                "week_start": row.week_start.isoformat(),
                "week_end": row.week_end.isoformat(),
                "expected": float(row.expected),
                "low": float(row.low),
                "high": float(row.high),
            }
            for row in self.weeks.itertuples()
        ]
        return {
            "as_of": self.as_of.isoformat(),
            "open_amount": self.open_amount,
            "expected_in_weeks": float(self.weeks["expected"].sum()),
            "remaining": self.remaining,
            "n_invoices": self.n_invoices,
            "weeks": rows,
        }


def week_bounds(as_of: date, weeks: int) -> tuple[list[date], list[date]]:
    """First and last day of each of ``weeks`` weeks, the first starting the day after ``as_of``."""
    starts = [as_of + timedelta(days=7 * w + 1) for w in range(weeks)]
    return starts, [start + timedelta(days=6) for start in starts]


def payment_probabilities(
    model: LatePaymentModel, features: pd.DataFrame, status: pd.DataFrame, weeks: int
) -> np.ndarray:
    """P(settled in each week) of each open invoice and, last column, P(still open after the last week).

    ``features`` and ``status`` as :func:`riskmodel.scoring.open_invoice_inputs` gives them
    (same rows, same order). Shape (n_rows, weeks + 1); every row sums to 1.
    """
    inputs = status_inputs(status)
    days_past_due = inputs["days_past_due"]
    if np.isnan(days_past_due).any():
        raise ValueError("every invoice of a cash forecast must be open, with its days past due")
    week_ends = days_past_due[:, None] + 7.0 * np.arange(weeks + 1)[None, :]
    unpaid = model.unpaid_after(features, week_ends, **inputs)
    return np.column_stack([-np.diff(unpaid, axis=1), unpaid[:, -1]])


def weekly_totals(as_of: date, open_amount: np.ndarray, probabilities: np.ndarray) -> CashForecast:
    """Sum per-invoice week probabilities (:func:`payment_probabilities`) into expected cash and its band."""
    weeks = probabilities.shape[1] - 1
    open_amount = np.asarray(open_amount, dtype=float)
    paid = probabilities[:, :weeks]
    expected = open_amount @ paid
    spread = Z_BAND * np.sqrt(np.square(open_amount) @ (paid * (1.0 - paid)))
    starts, ends = week_bounds(as_of, weeks)
    frame = pd.DataFrame(
        {
            "week": np.arange(1, weeks + 1),
            "week_start": starts,
            "week_end": ends,
            "expected": expected,
            "low": np.maximum(expected - spread, 0.0),
            "high": expected + spread,
        }
    )
    return CashForecast(
        as_of,
        frame,
        float(open_amount.sum()),
        float(open_amount @ probabilities[:, weeks]),
        len(open_amount),
    )


def forecast_open_invoices(
    model: LatePaymentModel,
    ledger: Ledger,
    invoices: pd.DataFrame,
    as_of: date,
    weeks: int = DEFAULT_WEEKS,
    features: pd.DataFrame | None = None,
) -> CashForecast:
    """The cash forecast of ``invoices`` (:func:`riskmodel.scoring.open_invoices` at ``as_of``).

    ``features`` holds the invoices' features at issue when the caller has them (any superset
    of the rows); otherwise they are computed.
    """
    if invoices.empty:
        return weekly_totals(as_of, np.zeros(0), np.zeros((0, weeks + 1)))
    if features is not None:
        features = features[features["invoice_id"].isin(invoices["invoice_id"])].reset_index(drop=True)
    features, status = open_invoice_inputs(model, ledger, invoices, features)
    amounts = features[["invoice_id"]].merge(
        invoices[["invoice_id", "open_amount"]], on="invoice_id", how="left", validate="one_to_one"
    )
    probabilities = payment_probabilities(model, features, status, weeks)
    return weekly_totals(as_of, amounts["open_amount"].to_numpy(dtype=float), probabilities)


def check_forecast_request(
    ledger: Ledger, as_of: date, customer_ids: Iterable[str] | None = None, weeks: int = DEFAULT_WEEKS
) -> None:
    """A :class:`ForecastError` when ``as_of`` is outside the ledger (before its first invoice, after its data end), a customer is unknown or ``weeks`` is not 1 to :data:`MAX_WEEKS`."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ForecastError(f"weeks must be from 1 to {MAX_WEEKS}; got {weeks}")
    data_end = ledger.require_data_end("forecast")
    first = pc.min(ledger.invoices["issue_date"]).as_py() if ledger.invoices.num_rows else None
    if as_of > data_end:
        raise ForecastError(
            f"as_of {as_of} is after the ledger's data end {data_end}: nothing is known about the invoices "
            f"open then; pick a date on or before {data_end}"
        )
    if first is None or as_of < first:
        raise ForecastError(
            f"as_of {as_of} is before the ledger's first invoice ({first}): no invoice is open then; "
            f"pick a date from {first} to {data_end}"
        )
    if customer_ids is not None:
        known = set(ledger.customers["customer_id"].to_pylist())
        unknown = [c for c in customer_ids if c not in known]
        if unknown:
            raise ForecastError(f"customer {unknown[0]!r} is not in the ledger; check the id")


def cash_forecast(
    model: LatePaymentModel,
    ledger: Ledger,
    as_of: date,
    weeks: int = DEFAULT_WEEKS,
    customer_ids: Iterable[str] | None = None,
) -> CashForecast:
    """Expected cash-in by week of the invoices open at the end of ``as_of`` (all, or those of ``customer_ids``)."""
    invoices = open_invoices(ledger, as_of, customer_ids)
    return forecast_open_invoices(model, ledger, invoices, as_of, weeks)


# -- baselines and what was collected ------------------------------------------------------
def _by_week(as_of: date, amounts: np.ndarray, days: np.ndarray, weeks: int) -> np.ndarray:
    """``amounts`` summed by the week their day falls in (``days`` after ``as_of``; 0 or less: week 1), then after the last week."""
    week = np.clip(np.ceil(np.asarray(days, dtype=float) / 7.0), 1, weeks + 1).astype(int) - 1
    return np.bincount(week, weights=np.asarray(amounts, dtype=float), minlength=weeks + 1)


def _days_after(as_of: date, dates: pd.Series) -> np.ndarray:
    return (pd.to_datetime(dates) - pd.Timestamp(as_of)).dt.days.to_numpy(dtype=float)


def due_date_baseline(invoices: pd.DataFrame, as_of: date, weeks: int = DEFAULT_WEEKS) -> np.ndarray:
    """Cash by week if every open invoice were paid on its due date (those already overdue in week 1); last: after the last week."""
    return _by_week(as_of, invoices["open_amount"], _days_after(as_of, invoices["due_date"]), weeks)


def average_delays(ledger: Ledger, as_of: date) -> tuple[pd.Series, float]:
    """Mean days beyond terms of each customer's invoices settled by ``as_of``, and the portfolio's mean."""
    invoices = ledger.frame("invoices")
    settled = invoices[invoices["settled_date"] <= pd.Timestamp(as_of)]
    delay = (settled["settled_date"] - settled["due_date"]).dt.days.astype(float)
    overall = float(delay.mean()) if len(delay) else 0.0
    return delay.groupby(settled["customer_id"]).mean(), overall


def average_delay_baseline(
    ledger: Ledger, invoices: pd.DataFrame, as_of: date, weeks: int = DEFAULT_WEEKS
) -> np.ndarray:
    """Cash by week if every open invoice were paid on its due date plus its customer's average delay.

    The delay is the mean days beyond terms of the customer's invoices settled by ``as_of``
    (the portfolio's mean for a customer with none); a date already past is week 1.
    """
    by_customer, overall = average_delays(ledger, as_of)
    delay = invoices["customer_id"].map(by_customer).fillna(overall).to_numpy(dtype=float)
    days = _days_after(as_of, invoices["due_date"]) + np.round(delay)
    return _by_week(as_of, invoices["open_amount"], days, weeks)


def collected_cash(
    ledger: Ledger, invoices: pd.DataFrame, as_of: date, weeks: int = DEFAULT_WEEKS
) -> np.ndarray:
    """Cash paid on ``invoices`` by week after ``as_of`` (the ledger's payments); last: after the last week."""
    payments = ledger.frame("payments")
    payments = payments[
        payments["invoice_id"].isin(invoices["invoice_id"]) & (payments["payment_date"] > pd.Timestamp(as_of))
    ]
    return _by_week(as_of, payments["amount"], _days_after(as_of, payments["payment_date"]), weeks)


# -- backtest -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CashBacktest:
    """Forecasts at past dates against the cash collected, week by week, with the two baselines.

    ``weeks`` has one row per forecast date and week: ``as_of, week, week_start, open_amount,
    actual, model, low, high, due_date, average_delay`` (the last two: the baselines).
    """

    weeks: pd.DataFrame

    def mape(self) -> pd.DataFrame:
        """Per method: mean absolute percentage error of the weekly portfolio totals, and of the horizon's total.

        ``weekly_mape`` averages ``|forecast - actual| / actual`` over every forecast date and
        week with cash collected; ``total_mape`` does the same with each date's sum over the weeks.
        """
        totals = self.weeks.groupby("as_of")[["actual", *METHODS]].sum()
        rows = [
            {
                "method": name,
                "description": text,
                "weekly_mape": _mape(self.weeks[name], self.weeks["actual"]),
                "total_mape": _mape(totals[name], totals["actual"]),
            }
            for name, text in METHODS.items()
        ]
        return pd.DataFrame(rows)

    def mape_by_week(self) -> pd.DataFrame:
        """Weekly MAPE of each method by week ahead (rows: week 1..n)."""
        return pd.DataFrame(
            {
                name: self.weeks.groupby("week")[[name, "actual"]].apply(
                    lambda part, name=name: _mape(part[name], part["actual"])
                )
                for name in METHODS
            }
        )

    @property
    def band_coverage(self) -> float:
        """Share of forecast weeks whose collected cash fell inside the model's 80 % band."""
        inside = (self.weeks["low"] <= self.weeks["actual"]) & (self.weeks["actual"] <= self.weeks["high"])
        return float(inside.mean()) if len(inside) else float("nan")


def _mape(predicted: pd.Series, actual: pd.Series) -> float:
    predicted, actual = np.asarray(predicted, dtype=float), np.asarray(actual, dtype=float)
    used = actual > 0
    return (
        float(np.mean(np.abs(predicted[used] - actual[used]) / actual[used])) if used.any() else float("nan")
    )


def backtest_dates(first: date, last: date, data_end: date, weeks: int = DEFAULT_WEEKS) -> list[date]:
    """Month ends from ``first`` to ``last`` whose ``weeks`` weeks of collections lie within ``data_end``."""
    month_ends = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="ME")
    horizon = timedelta(days=7 * weeks)
    return [d.date() for d in month_ends if d.date() + horizon <= data_end]


def backtest_cash_forecast(
    model: LatePaymentModel,
    ledger: Ledger,
    dates: Sequence[date],
    weeks: int = DEFAULT_WEEKS,
    progress: Callable[[date], None] | None = None,
) -> CashBacktest:
    """Forecast at each of ``dates`` with ``model`` (nothing is trained) and compare with what was collected.

    Use a model that saw nothing after the first date (e.g. the run's validation model and
    dates after its cut) for an out-of-time measure. ``progress`` is called with each date
    once done.
    """
    features = invoice_features(ledger, max(dates), config=model.feature_config) if dates else None
    parts = []
    for as_of in dates:
        invoices = open_invoices(ledger, as_of)
        forecast = forecast_open_invoices(model, ledger, invoices, as_of, weeks, features)
        part = forecast.weeks[["week", "week_start"]].assign(
            as_of=as_of,
            open_amount=forecast.open_amount,
            actual=collected_cash(ledger, invoices, as_of, weeks)[:weeks],
            model=forecast.weeks["expected"],
            low=forecast.weeks["low"],
            high=forecast.weeks["high"],
            due_date=due_date_baseline(invoices, as_of, weeks)[:weeks],
            average_delay=average_delay_baseline(ledger, invoices, as_of, weeks)[:weeks],
        )
        parts.append(part)
        logger.info("cash forecast at %s: %s open invoices", as_of, f"{forecast.n_invoices:,}")
        if progress is not None:
            progress(as_of)
    columns = [
        "as_of",
        "week",
        "week_start",
        "open_amount",
        "actual",
        "model",
        "low",
        "high",
        *list(METHODS)[1:],
    ]
    frame = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    return CashBacktest(frame)
