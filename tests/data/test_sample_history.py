"""The generator's customer_history: on by default, deterministic, valid and telling a credit story."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from riskmodel.ledger import ledger_from_frames
from riskmodel.sample import make_sample_tables
from riskmodel.sample.history import CLEAN_WITHIN_DAYS_LATE, CUT, CUT_AFTER_DAYS_LATE, RAISE

START = date(2023, 1, 1)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return make_sample_tables(n_customers=300, seed=7, start=START, months=24, history=True)


def test_history_is_on_by_default():
    assert "customer_history" in make_sample_tables(n_customers=20, seed=7, start=START, months=12)


def test_leaving_history_out_leaves_the_other_tables_unchanged(tables):
    plain = make_sample_tables(n_customers=300, seed=7, start=START, months=24, history=False)
    assert "customer_history" not in plain
    for name, frame in plain.items():
        pd.testing.assert_frame_equal(frame, tables[name])


def test_same_seed_gives_the_same_history(tables):
    again = make_sample_tables(n_customers=300, seed=7, start=START, months=24, history=True)
    pd.testing.assert_frame_equal(again["customer_history"], tables["customer_history"])
    other = make_sample_tables(n_customers=300, seed=8, start=START, months=24, history=True)
    assert not other["customer_history"].equals(tables["customer_history"])


def test_history_rows_reconcile_with_the_ledger(tables):
    ledger = ledger_from_frames(tables, strict=True)  # known customers, on or after onboarding, unique
    history = tables["customer_history"]
    assert ledger.customer_history.num_rows == len(history) > 300
    assert history["date"].max() < pd.Timestamp("2025-01-01")  # 24 months from 2023-01-01
    no_bureau = set(tables["customers"].loc[tables["customers"]["bureau_score"].isna(), "customer_id"])
    assert history.loc[history["customer_id"].isin(no_bureau), "bureau_score"].isna().all()


def _days_late_in_year_before(tables, customer_id: str, day: pd.Timestamp) -> float:
    invoices = tables["invoices"][tables["invoices"]["customer_id"] == customer_id]
    due = invoices["due_date"]
    window = (due < day) & (due >= day - pd.Timedelta(days=365))
    settled = invoices["settled_date"].fillna(day).clip(upper=day)
    late = (settled - due)[window].dt.days
    return float(late.max()) if len(late) else np.nan


def test_limits_are_cut_after_delinquency_and_raised_after_a_clean_year(tables):
    history = tables["customer_history"]
    onboarding_limit = tables["customers"].set_index("customer_id")["credit_limit"]
    changes = history.dropna(subset=["credit_limit"])
    assert len(changes) > 30
    cuts = raises = 0
    for customer_id, rows in changes.groupby("customer_id"):
        before = onboarding_limit[customer_id]
        for row in rows.itertuples():
            worst = _days_late_in_year_before(tables, customer_id, row.date)
            if row.credit_limit < before:
                assert row.credit_limit == pytest.approx(round(before * CUT, -2), rel=0.02)
                assert worst >= CUT_AFTER_DAYS_LATE
                cuts += 1
            else:
                assert row.credit_limit == pytest.approx(round(before * RAISE, -2), rel=0.02)
                assert worst <= CLEAN_WITHIN_DAYS_LATE
                raises += 1
            before = row.credit_limit
    assert cuts > 5 and raises > 5


def test_sample_command_writes_history_unless_told_not_to(tmp_path):
    from riskmodel.cli import main

    for folder, flags in [("with", []), ("without", ["--no-history"])]:
        assert main(["-q", "sample", "--out", str(tmp_path / folder), "--customers", "20", *flags]) == 0
    assert (tmp_path / "with" / "customer_history.csv").is_file()
    written = sorted(path.name for path in (tmp_path / "without").iterdir())
    assert written == ["customers.csv", "events.csv", "invoices.csv", "payments.csv"]


def test_over_five_years_most_limits_keep_at_least_half_their_onboarding_value():
    """Cuts follow real delinquency, not every slip: they do not compound across the book."""
    five_years = make_sample_tables(n_customers=1000, seed=0)  # the committed sample
    onboarding = five_years["customers"].set_index("customer_id")["credit_limit"]
    latest = (
        five_years["customer_history"]
        .dropna(subset=["credit_limit"])
        .groupby("customer_id")["credit_limit"]
        .last()
    )
    limit = onboarding.copy()
    limit[latest.index] = latest
    assert (limit < 0.5 * onboarding).mean() <= 0.15
    assert (limit > onboarding).sum() > 50  # clean records are rewarded
