"""Checks on the synthetic ledger generator: contract, integrity, determinism and realism."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from riskmodel.ledger.schema import EVENT_TYPES, TABLE_BY_NAME
from riskmodel.ledger.write import write_tables
from riskmodel.sample import (
    SAMPLE_MONTHS,
    SAMPLE_START,
    make_sample_tables,
    measure_sample_rates,
    observed_default_dates,
)
from tests.conftest import SAMPLE

START = SAMPLE_START
MONTHS = SAMPLE_MONTHS
END = pd.Timestamp("2026-01-01")  # the sample covers 2021-01-01 .. 2025-12-31
FIRMOGRAPHICS = ["annual_revenue", "years_in_business", "employees", "registered_capital", "bureau_score"]


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return make_sample_tables(n_customers=300, seed=7)


@pytest.fixture(scope="module")
def sample_1000() -> dict[str, pd.DataFrame]:
    """The tables of the committed ``data/sample``: ``riskmodel sample --customers 1000 --seed 0``."""
    return make_sample_tables(n_customers=1000, seed=0)


@pytest.fixture(scope="module")
def rates(sample_1000: dict[str, pd.DataFrame]) -> dict[str, float]:
    return measure_sample_rates(sample_1000, START, MONTHS)


@pytest.fixture(scope="module")
def paid(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per invoice: amount, settlement, number, total and last date of its payments."""
    pay = (
        tables["payments"]
        .groupby("invoice_id")
        .agg(paid=("amount", "sum"), n_payments=("amount", "size"), last_payment=("payment_date", "max"))
    )
    inv = tables["invoices"].set_index("invoice_id")
    out = inv.join(pay, how="left")
    out["paid"] = out["paid"].fillna(0.0).round(2)
    out["n_payments"] = out["n_payments"].fillna(0).astype(int)
    return out


def _auc(score: pd.Series, label: pd.Series) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    ranks = score.rank()
    n_pos, n_neg = int(label.sum()), int((~label).sum())
    return float((ranks[label].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


# --- contract ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["customers", "invoices", "payments", "events"])
def test_tables_have_exactly_the_schema_columns(tables, name):
    assert list(tables[name].columns) == TABLE_BY_NAME[name].column_names


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("customers", "onboarding_date"),
        ("invoices", "issue_date"),
        ("invoices", "due_date"),
        ("invoices", "settled_date"),
        ("invoices", "dispute_date"),
        ("invoices", "written_off_date"),
        ("payments", "payment_date"),
        ("events", "date"),
    ],
)
def test_date_columns_are_datetime64(tables, name, column):
    assert str(tables[name][column].dtype) in ("datetime64[s]", "datetime64[ns]")


def test_value_dtypes(tables):
    assert tables["customers"]["payment_terms_days"].dtype == np.int64
    for name, column in [("invoices", "amount"), ("payments", "amount"), ("customers", "credit_limit")]:
        assert tables[name][column].dtype == np.float64
    for name, column in [
        ("customers", "customer_id"),
        ("invoices", "invoice_id"),
        ("payments", "payment_id"),
    ]:
        assert pd.api.types.is_string_dtype(tables[name][column])


def test_id_formats(tables):
    assert tables["customers"]["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert tables["invoices"]["invoice_id"].str.fullmatch(r"INV\d{8}").all()
    assert tables["payments"]["payment_id"].str.fullmatch(r"P\d{8}").all()


def test_amounts_are_in_cents(tables):
    for name in ("invoices", "payments"):
        amount = tables[name]["amount"]
        assert np.allclose(amount, amount.round(2), rtol=0, atol=1e-9)


def test_payment_terms_are_standard(tables):
    assert set(tables["customers"]["payment_terms_days"]) <= {30, 45, 60, 90}


def test_event_types_are_known(tables):
    assert set(tables["events"]["type"]) <= set(EVENT_TYPES)
    assert len(tables["events"]) > 0


def test_rejects_non_positive_customer_count():
    with pytest.raises(ValueError, match="n_customers must be a positive integer; got 0"):
        make_sample_tables(n_customers=0)


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_tables(tables):
    again = make_sample_tables(n_customers=300, seed=7)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, again[name])


def test_tables_do_not_depend_on_the_sort_algorithm(tables, monkeypatch):
    """Rows that tie on their sort key (instalments of one invoice on one day) keep their planned order.

    An unstable sort may order ties differently on another machine or numpy build; a sort that
    puts ties in reverse order stands in for that here.
    """
    argsort = np.argsort

    def ties_reversed_unless_stable(a, axis=-1, kind=None, order=None):
        if kind == "stable" or np.ndim(a) != 1:
            return argsort(a, axis=axis, kind=kind, order=order)
        a = np.asarray(a)
        return len(a) - 1 - argsort(a[::-1], kind="stable")

    monkeypatch.setattr(np, "argsort", ties_reversed_unless_stable)
    again = make_sample_tables(n_customers=300, seed=7)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, again[name])


def test_committed_sample_is_what_the_documented_command_writes(sample_1000, tmp_path):
    """``data/sample`` equals, byte for byte, ``riskmodel sample --out DIR --customers 1000 --seed 0``."""
    written = write_tables(sample_1000, tmp_path, fmt="csv")
    assert sorted(path.name for path in written) == sorted(path.name for path in SAMPLE.glob("*.csv"))
    for path in written:
        assert path.read_bytes() == (SAMPLE / path.name).read_bytes(), (
            f"{path.name} differs from data/sample; regenerate it with `make sample`"
        )


def test_different_seeds_give_different_tables(tables):
    other = make_sample_tables(n_customers=300, seed=8)
    assert not tables["invoices"]["amount"].equals(other["invoices"]["amount"])
    assert not tables["customers"]["onboarding_date"].equals(other["customers"]["onboarding_date"])


# --- integrity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"), [("customers", "customer_id"), ("invoices", "invoice_id"), ("payments", "payment_id")]
)
def test_ids_are_unique(tables, name, key):
    assert tables[name][key].is_unique


def test_every_invoice_customer_exists(tables):
    assert tables["invoices"]["customer_id"].isin(tables["customers"]["customer_id"]).all()


def test_every_payment_invoice_exists(tables):
    assert tables["payments"]["invoice_id"].isin(tables["invoices"]["invoice_id"]).all()


def test_every_event_customer_exists(tables):
    assert tables["events"]["customer_id"].isin(tables["customers"]["customer_id"]).all()


def test_no_invoice_before_onboarding(tables):
    onboarding = tables["customers"].set_index("customer_id")["onboarding_date"]
    inv = tables["invoices"]
    assert (inv["issue_date"] >= inv["customer_id"].map(onboarding)).all()


def test_due_date_not_before_issue_date(tables):
    inv = tables["invoices"]
    assert (inv["due_date"] >= inv["issue_date"]).all()


def test_amounts_are_positive(tables):
    assert (tables["invoices"]["amount"] > 0).all()
    assert (tables["payments"]["amount"] > 0).all()


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("customers", "onboarding_date"),
        ("invoices", "issue_date"),
        ("invoices", "settled_date"),
        ("invoices", "dispute_date"),
        ("invoices", "written_off_date"),
        ("payments", "payment_date"),
        ("events", "date"),
    ],
)
def test_nothing_on_or_after_the_data_end(tables, name, column):
    assert (tables[name][column].dropna() < END).all()


def test_data_end_follows_custom_start_and_months():
    short = make_sample_tables(n_customers=100, seed=3, start=date(2022, 3, 15), months=5)
    end = pd.Timestamp("2022-08-15")
    inv = short["invoices"]
    assert inv["issue_date"].min() >= pd.Timestamp("2022-03-15")
    for column in ("issue_date", "settled_date", "dispute_date", "written_off_date"):
        assert (inv[column].dropna() < end).all()
    assert (short["payments"]["payment_date"] < end).all()


@pytest.mark.parametrize("column", ["settled_date", "dispute_date", "written_off_date"])
def test_no_invoice_date_before_issue(tables, column):
    inv = tables["invoices"].dropna(subset=[column])
    assert (inv[column] >= inv["issue_date"]).all()


def test_no_payment_before_issue(tables):
    issue = tables["invoices"].set_index("invoice_id")["issue_date"]
    pay = tables["payments"]
    assert (pay["payment_date"] >= pay["invoice_id"].map(issue)).all()


def test_settled_invoices_are_paid_exactly(paid):
    settled = paid[paid["settled_date"].notna()]
    assert (settled["paid"] == settled["amount"]).all()


def test_settled_date_is_the_day_payments_reach_the_amount(paid):
    settled = paid[paid["settled_date"].notna()]
    assert (settled["last_payment"] == settled["settled_date"]).all()


def test_unsettled_invoices_are_not_fully_paid(paid):
    unsettled = paid[paid["settled_date"].isna()]
    assert (unsettled["paid"] < unsettled["amount"]).all()


def test_partial_payments_sum_to_the_amount(paid):
    instalments = paid[(paid["n_payments"] > 1) & paid["settled_date"].notna()]
    assert len(instalments) > 0
    assert (instalments["paid"] == instalments["amount"]).all()


def test_written_off_invoices_are_not_settled(paid):
    written_off = paid[paid["written_off_date"].notna()]
    assert len(written_off) > 0
    assert written_off["settled_date"].isna().all()
    assert (written_off["paid"] < written_off["amount"]).all()


def test_write_off_comes_120_to_240_days_after_due(tables):
    inv = tables["invoices"].dropna(subset=["written_off_date"])
    lag = (inv["written_off_date"] - inv["due_date"]).dt.days
    assert lag.min() >= 120
    assert lag.median() <= 240


def test_open_invoices_exist_at_the_data_end(tables):
    inv = tables["invoices"]
    is_open = inv["settled_date"].isna() & inv["written_off_date"].isna()
    assert is_open.sum() > 0
    assert (inv.loc[is_open, "issue_date"] >= END - pd.Timedelta(days=120)).mean() > 0.5


def test_no_new_invoices_after_a_credit_event(tables):
    first_event = tables["events"].groupby("customer_id")["date"].min()
    inv = tables["invoices"]
    assert (inv["issue_date"] < inv["customer_id"].map(first_event).fillna(END)).all()


def test_events_follow_unpaid_exposure(tables, paid):
    """Every customer with a credit event had an invoice that is not settled on time."""
    late = paid[paid["settled_date"].isna() | (paid["settled_date"] > paid["due_date"])]
    assert tables["events"]["customer_id"].isin(late["customer_id"]).all()


# --- realism ----------------------------------------------------------------------------------


def test_sample_size(sample_1000):
    """About 1.2 invoices per customer-month: 70,000 for 1,000 customers over 60 months."""
    assert 55_000 <= len(sample_1000["invoices"]) <= 90_000


@pytest.mark.parametrize(
    ("rate", "low", "high"),
    [
        ("default_rate_12m", 0.02, 0.06),
        ("late_share", 0.35, 0.60),
        ("late_30_share", 0.05, 0.15),
        ("late_90_or_written_off_share", 0.005, 0.04),
        ("dispute_share", 0.01, 0.05),
        ("partial_payment_share", 0.05, 0.15),
    ],
)
def test_rates_are_realistic(rates, rate, low, high):
    assert low <= rates[rate] <= high


def test_disputes_delay_payment_but_are_mostly_paid(sample_1000):
    inv = sample_1000["invoices"]
    disputed = inv["dispute_date"].notna()
    days_beyond = (inv["settled_date"] - inv["due_date"]).dt.days
    assert days_beyond[disputed].mean() > days_beyond[~disputed].mean() + 15
    assert inv.loc[disputed, "settled_date"].notna().mean() > 0.8


@pytest.mark.parametrize("column", FIRMOGRAPHICS)
def test_firmographics_are_partly_missing(sample_1000, column):
    assert 0.03 <= sample_1000["customers"][column].isna().mean() <= 0.25


def test_customers_arrive_over_time(sample_1000):
    onboarding = sample_1000["customers"]["onboarding_date"]
    assert 0.5 <= (onboarding < pd.Timestamp(START)).mean() <= 0.7
    assert onboarding[onboarding >= pd.Timestamp(START)].dt.to_period("Y").nunique() == MONTHS // 12


def test_some_customers_churn_without_default(sample_1000):
    defaults = observed_default_dates(sample_1000, END.date())
    last_invoice = sample_1000["invoices"].groupby("customer_id")["issue_date"].max()
    stopped = last_invoice[last_invoice < END - pd.DateOffset(months=6)]
    assert (~stopped.index.isin(defaults.index)).sum() > 50


def test_payment_slows_down_before_default(sample_1000):
    defaults = observed_default_dates(sample_1000, END.date())
    inv = sample_1000["invoices"].dropna(subset=["settled_date"])
    inv = inv.assign(
        days_beyond=(inv["settled_date"] - inv["due_date"]).dt.days,
        default_date=inv["customer_id"].map(defaults),
    )
    before = inv[inv["default_date"].notna() & (inv["settled_date"] <= inv["default_date"])]
    last_6m = before["settled_date"] > before["default_date"] - pd.DateOffset(months=6)
    non_defaulters = inv.loc[inv["default_date"].isna(), "days_beyond"]
    assert before.loc[last_6m, "days_beyond"].mean() > before.loc[~last_6m, "days_beyond"].mean() + 5
    assert before.loc[last_6m, "days_beyond"].mean() > non_defaulters.mean() + 10


def test_bureau_score_is_informative_but_not_revealing(sample_1000):
    customers = sample_1000["customers"].dropna(subset=["bureau_score"])
    defaults = observed_default_dates(sample_1000, END.date())
    defaulted = customers["customer_id"].isin(defaults.index)
    auc = _auc(-customers["bureau_score"], defaulted)
    assert 0.55 <= auc <= 0.85


def test_larger_customers_buy_more(sample_1000):
    customers = sample_1000["customers"].set_index("customer_id")
    volume = sample_1000["invoices"].groupby("customer_id")["amount"].sum()
    revenue = customers["annual_revenue"].reindex(volume.index)
    assert volume.rank().corr(revenue.rank()) > 0.3


def test_sample_command_takes_a_period(tmp_path):
    from riskmodel.cli import main

    argv = [
        "-q",
        "sample",
        "--out",
        str(tmp_path),
        "--customers",
        "30",
        "--start",
        "2024-03-01",
        "--months",
        "4",
    ]
    assert main(argv) == 0
    issued = pd.read_csv(tmp_path / "invoices.csv", parse_dates=["issue_date"])["issue_date"]
    assert issued.min() >= pd.Timestamp("2024-03-01") and issued.max() < pd.Timestamp("2024-07-01")
