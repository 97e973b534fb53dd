"""The cash-in forecast: weeks and band from the payment-timing distribution, baselines, collections and the backtest.

A late-payment model is fitted once on the small real-shaped ledger (``tests/small_ledger.py``,
no payments table: each settled invoice is one payment on its settled date).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from riskmodel.exceptions import ForecastError
from riskmodel.forecast import (
    METHODS,
    Z_BAND,
    average_delay_baseline,
    backtest_cash_forecast,
    backtest_dates,
    cash_forecast,
    check_forecast_request,
    collected_cash,
    due_date_baseline,
    weekly_totals,
)
from riskmodel.ledger import load_ledger
from riskmodel.models.config import GBMParams, TrainConfig
from riskmodel.models.fit import FitResult, fit_model
from riskmodel.models.specs import LATE_PAYMENT
from riskmodel.scoring import open_invoices
from tests.small_ledger import END, write_small_ledger

FAST = TrainConfig(gbm=GBMParams(n_estimators=40, early_stopping_rounds=10, min_child_samples=20))
AS_OF = date(2024, 10, 31)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    return load_ledger(write_small_ledger(tmp_path_factory.mktemp("forecast") / "ledger"))


@pytest.fixture(scope="module")
def fitted(ledger) -> FitResult:
    return fit_model(LATE_PAYMENT, LATE_PAYMENT.build_table(ledger, None, FAST), ledger.data_end, FAST)


@pytest.mark.parametrize("as_of", [AS_OF, END], ids=str)
def test_the_forecast_sums_to_the_expected_value_of_the_open_book(fitted, ledger, as_of):
    forecast = cash_forecast(fitted.model, ledger, as_of)
    book = open_invoices(ledger, as_of)["open_amount"].sum()
    assert forecast.n_invoices > 50 and forecast.open_amount == pytest.approx(book)
    assert forecast.weeks["expected"].sum() + forecast.remaining == pytest.approx(book, rel=1e-9)
    assert 0 < forecast.remaining < book  # some of the book is still open after 13 weeks, not all
    assert (forecast.weeks["expected"] > 0).all()


def test_weeks_follow_as_of_and_the_band_holds_the_expected_value(fitted, ledger):
    forecast = cash_forecast(fitted.model, ledger, AS_OF)
    weeks = forecast.weeks
    assert list(weeks.columns) == ["week", "week_start", "week_end", "expected", "low", "high"]
    assert weeks["week"].tolist() == list(range(1, 14))
    assert weeks["week_start"].tolist() == [AS_OF + timedelta(days=7 * w + 1) for w in range(13)]
    assert (weeks["week_end"] - weeks["week_start"]).map(lambda d: d.days).eq(6).all()
    assert (
        (weeks["low"] >= 0) & (weeks["low"] <= weeks["expected"]) & (weeks["expected"] < weeks["high"])
    ).all()
    shorter = cash_forecast(fitted.model, ledger, AS_OF, weeks=4)
    assert len(shorter.weeks) == 4
    np.testing.assert_allclose(shorter.weeks["expected"], weeks["expected"].head(4))
    assert shorter.remaining == pytest.approx(weeks["expected"].iloc[4:].sum() + forecast.remaining)


def test_customer_forecasts_add_up_to_the_portfolio(fitted, ledger):
    portfolio = cash_forecast(fitted.model, ledger, AS_OF, weeks=6)
    customers = open_invoices(ledger, AS_OF)["customer_id"].unique()
    parts = [cash_forecast(fitted.model, ledger, AS_OF, 6, [c]) for c in customers]
    np.testing.assert_allclose(
        sum(p.weeks["expected"].to_numpy() for p in parts), portfolio.weeks["expected"], rtol=1e-9
    )
    assert sum(p.n_invoices for p in parts) == portfolio.n_invoices
    one = parts[0]
    assert one.weeks["expected"].sum() + one.remaining == pytest.approx(one.open_amount)


def test_the_band_is_the_normal_approximation_of_independent_invoices():
    probabilities = np.array([[0.5, 0.25, 0.25], [0.1, 0.9, 0.0]])
    forecast = weekly_totals(date(2024, 1, 31), np.array([100.0, 300.0]), probabilities)
    assert forecast.weeks["expected"].tolist() == pytest.approx([80.0, 295.0])
    spread = Z_BAND * np.sqrt([100**2 * 0.25 + 300**2 * 0.09, 100**2 * 0.1875 + 300**2 * 0.09])
    assert forecast.weeks["high"].to_numpy() == pytest.approx(np.array([80.0, 295.0]) + spread)
    assert forecast.weeks["low"].tolist() == pytest.approx([max(80.0 - spread[0], 0.0), 295.0 - spread[1]])
    assert forecast.remaining == pytest.approx(25.0) and Z_BAND == pytest.approx(1.2816, abs=1e-4)


def test_an_empty_book_forecasts_nothing(fitted, ledger):
    forecast = cash_forecast(fitted.model, ledger, AS_OF, customer_ids=["NO-SUCH"])
    assert forecast.n_invoices == 0 and forecast.remaining == 0 and len(forecast.weeks) == 13
    assert (forecast.weeks[["expected", "low", "high"]] == 0).all().all()


def test_baselines_put_each_amount_in_its_week():
    as_of = date(2024, 1, 31)
    invoices = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "C"],
            "due_date": pd.to_datetime(["2024-01-10", "2024-02-01", "2024-02-08", "2024-06-30"]),
            "open_amount": [10.0, 20.0, 40.0, 80.0],
        }
    )
    # overdue and due on day 1: week 1; day 8: week 2; beyond week 13: after the last week
    assert due_date_baseline(invoices, as_of, 13)[[0, 1, 13]].tolist() == [30.0, 40.0, 80.0]


def test_collected_cash_reads_the_payments_after_as_of(write_ledger_files):
    ledger = load_ledger(write_ledger_files())
    invoices = open_invoices(ledger, date(2023, 4, 30))
    assert sorted(invoices["invoice_id"]) == ["I2", "I3"]
    cash = collected_cash(ledger, invoices, date(2023, 4, 30), 4)
    assert cash.tolist() == [150.0, 0.0, 250.0, 0.0, 0.0]  # 1 and 20 May: weeks 1 and 3


def test_the_average_delay_baseline_shifts_due_dates_by_the_customers_past_delay(ledger):
    invoices = open_invoices(ledger, AS_OF)
    on_due = due_date_baseline(invoices, AS_OF)
    delayed = average_delay_baseline(ledger, invoices, AS_OF)
    assert on_due.sum() == pytest.approx(delayed.sum()) == pytest.approx(invoices["open_amount"].sum())
    weeks = np.arange(1, 15)
    assert (delayed * weeks).sum() > (on_due * weeks).sum()  # customers pay late on average: later weeks


def test_the_backtest_compares_forecasts_with_what_was_collected(fitted, ledger):
    cut = fitted.validation_model.trained_as_of
    dates = backtest_dates(cut, END, END)
    assert dates and all(d > cut and d + timedelta(days=91) <= END for d in dates)
    backtest = backtest_cash_forecast(fitted.validation_model, ledger, dates)
    frame = backtest.weeks
    assert len(frame) == 13 * len(dates)
    invoices = ledger.frame("invoices")
    for as_of in dates[:2]:  # no payments table: each invoice open then is paid in full on its settled date
        open_ids = open_invoices(ledger, as_of)["invoice_id"]
        settled = invoices[invoices["invoice_id"].isin(open_ids)]
        within = settled["settled_date"].between(
            pd.Timestamp(as_of + timedelta(days=1)), pd.Timestamp(as_of + timedelta(days=91))
        )
        assert frame.loc[frame["as_of"] == as_of, "actual"].sum() == pytest.approx(
            settled.loc[within, "amount"].sum()
        )
    mape = backtest.mape().set_index("method")
    assert list(mape.index) == list(METHODS)
    assert np.isfinite(mape[["weekly_mape", "total_mape"]].to_numpy()).all()
    assert (mape["weekly_mape"] > 0).all()
    assert backtest.mape_by_week().shape == (13, 3)
    assert 0 < backtest.band_coverage < 1


def test_requests_outside_the_ledger_are_refused(ledger):
    check_forecast_request(ledger, END, ["K001"])
    with pytest.raises(ForecastError, match="after the ledger's data end"):
        check_forecast_request(ledger, END + timedelta(days=1))
    with pytest.raises(ForecastError, match="before the ledger's first invoice"):
        check_forecast_request(ledger, date(2000, 1, 1))
    with pytest.raises(ForecastError, match="'NOPE' is not in the ledger"):
        check_forecast_request(ledger, END, ["NOPE"])
    with pytest.raises(ForecastError, match="weeks must be from 1 to 104"):
        check_forecast_request(ledger, END, weeks=0)
