"""Backtest figures on constructed cases: which defaults count, which alerts warned of them, precision, limits, exposure."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from riskmodel.backtest import scoring_dates
from riskmodel.backtest.measures import (
    alert_figures,
    defaults_to_warn,
    limit_figures,
    monthly_table,
    open_at,
    warned,
)
from riskmodel.backtest.outcomes import bad_outcomes, exposure_under
from riskmodel.backtest.report import comparison, headline_table
from riskmodel.exceptions import BacktestError

START, END = date(2024, 12, 31), date(2025, 6, 30)
DATES = scoring_dates(START, END)
T = pd.Timestamp


def alert(customer: str, opened: str, closed: str | None = None, severity: str = "severe") -> dict:
    return {
        "customer_id": customer,
        "alert_type": "pd_level",
        "severity": severity,
        "opened_as_of": T(opened),
        "closed_as_of": T(closed) if closed else pd.NaT,
    }


def test_scoring_dates_are_the_start_then_month_ends() -> None:
    assert [d.isoformat() for d in DATES] == [
        "2024-12-31",
        "2025-01-31",
        "2025-02-28",
        "2025-03-31",
        "2025-04-30",
        "2025-05-31",
        "2025-06-30",
    ]
    with pytest.raises(BacktestError, match="must be after --start"):
        scoring_dates(END, START)
    with pytest.raises(BacktestError, match="no month end after 2025-01-31"):
        scoring_dates(date(2025, 1, 31), date(2025, 2, 27))


def test_an_alert_is_open_from_the_date_it_is_raised_until_the_date_it_closes() -> None:
    alerts = pd.DataFrame([alert("C1", "2025-01-31", "2025-03-31")] * 4)
    at = pd.Series([T("2024-12-31"), T("2025-01-31"), T("2025-02-28"), T("2025-03-31")])
    assert open_at(alerts, at).tolist() == [False, True, True, False]


@pytest.mark.parametrize(
    ("default_date", "in_default", "counted"),
    [
        (
            "2025-01-30",
            False,
            False,
        ),  # 30 days after the start: too soon to have been warned within the backtest
        ("2025-01-31", False, True),
        ("2025-07-30", False, True),  # 30 days after the end
        ("2025-07-31", False, False),
        ("2025-03-15", True, False),  # already in default at the start
    ],
    ids=["start+30", "start+31", "end+30", "end+31", "in-default"],
)
def test_defaults_counted_for_recall(default_date: str, in_default: bool, counted: bool) -> None:
    defaults = pd.DataFrame(
        [
            {
                "as_of": T(START),
                "customer_id": "C1",
                "in_default": in_default,
                "next_default_date": pd.NaT if in_default else T(default_date),
            }
        ]
    )
    assert (len(defaults_to_warn(defaults, START, END)) == 1) is counted


@pytest.mark.parametrize(
    ("alerts", "warned_on"),
    [
        ([alert("C1", "2025-02-28")], "2025-02-28"),  # 33 days ahead
        ([alert("C1", "2025-03-31")], None),  # 2 days ahead: too late
        ([alert("C1", "2025-02-28", severity="warning")], None),  # not severe
        ([alert("C1", "2024-12-31")], "2024-12-31"),  # raised at the warm-up, still open
        ([alert("C1", "2024-12-31", "2025-01-31")], "2024-12-31"),
        ([alert("C2", "2025-02-28")], None),  # another customer
    ],
    ids=["33-days", "2-days", "warning", "warm-up-still-open", "closed-before-window-end", "other-customer"],
)
def test_a_default_is_warned_by_a_severe_alert_open_30_days_to_6_months_before(
    alerts: list[dict], warned_on: str | None
) -> None:
    targets = pd.DataFrame({"customer_id": ["C1"], "default_date": [T("2025-04-02")]})
    result = warned(targets, pd.DataFrame(alerts), DATES)["warned_on"].iloc[0]
    assert pd.isna(result) if warned_on is None else result == T(warned_on)


def test_precision_counts_new_severe_alerts_after_the_warm_up_against_the_base_rate() -> None:
    scores = pd.DataFrame(
        {"as_of": [T("2025-01-31")] * 4 + [T("2024-12-31")], "customer_id": ["C1", "C2", "C3", "C4", "C5"]}
    )
    bad = np.array([True, False, False, False, True])
    alerts = pd.DataFrame(
        [
            alert("C1", "2025-01-31"),
            alert("C2", "2025-01-31"),
            alert("C3", "2025-01-31", severity="warning"),
            alert("C5", "2024-12-31"),  # the warm-up: not counted
        ]
    )
    figures = alert_figures(scores, alerts, bad, DATES)
    assert figures["n_new_severe_alerts"] == 2
    assert figures["alert_precision"] == pytest.approx(0.5)
    assert figures["base_rate"] == pytest.approx(0.25)
    assert figures["lift"] == pytest.approx(2.0)


def test_bad_outcome_is_a_default_or_a_new_crossing_within_six_months() -> None:
    scored = pd.DataFrame({"as_of": [T("2025-01-31")] * 4, "customer_id": ["C1", "C2", "C3", "C4"]})
    defaults = pd.DataFrame(
        {
            "as_of": [T("2025-01-31")] * 2,
            "customer_id": ["C1", "C2"],
            "in_default": [False, False],
            "next_default_date": [T("2025-07-31"), T("2025-08-01")],
        }
    )
    crossings = pd.DataFrame(
        {
            "customer_id": ["C3", "C4"],
            "invoice_id": ["I3", "I4"],
            "crossed": [T("2025-02-01"), T("2025-01-31")],
        }
    )
    assert bad_outcomes(scored, defaults, crossings).tolist() == [True, False, True, False]


def test_limit_shares_and_the_limits_of_customers_who_stayed_good() -> None:
    scores = pd.DataFrame(
        {
            "as_of": [T("2025-01-31")] * 4 + [T("2024-12-31")],
            "customer_id": ["C1", "C2", "C3", "C4", "C1"],
            "current_limit": [100.0, 100.0, 100.0, np.nan, 100.0],
            "recommended_limit": [150.0, 50.0, 100.0, 10.0, 0.0],
        }
    )
    figures = limit_figures(scores, np.array([False, True, False, False, False]), DATES)
    assert (
        figures["limits_raised_share"],
        figures["limits_cut_share"],
        figures["limits_unchanged_share"],
    ) == (
        pytest.approx(1 / 3),
        pytest.approx(1 / 3),
        pytest.approx(1 / 3),
    )
    assert figures["good_limit_ratio"] == pytest.approx(250 / 200)


def test_new_invoices_ship_only_within_the_headroom_of_the_limit_in_force() -> None:
    exposure = pd.DataFrame({"committed": [500.0, 0.0], "new": [300.0, 200.0], "balance": [800.0, 1_000.0]})
    assert exposure_under(pd.Series([1_000.0, 1_100.0]), exposure).tolist() == [700.0, 100.0]
    assert exposure_under(pd.Series([np.nan, 900.0]), exposure).tolist() == [800.0, 0.0]


def test_monthly_table_counts_customers_with_a_new_alert() -> None:
    scores = pd.DataFrame(
        {
            "as_of": [T("2025-01-31")] * 4,
            "customer_id": ["C1", "C2", "C3", "C4"],
            "current_limit": [100.0] * 4,
            "recommended_limit": [100.0] * 4,
        }
    )
    alerts = pd.DataFrame(
        [alert("C1", "2025-01-31"), alert("C1", "2025-01-31", severity="warning"), alert("C2", "2024-12-31")]
    )
    row = monthly_table(scores, alerts, [date(2025, 1, 31)]).iloc[0]
    assert (row["new_alerts"], row["customers_with_new_alert"], row["open_alerts"]) == (2, 1, 3)
    assert row["new_alert_rate"] == pytest.approx(0.25)


def test_headline_targets_are_met_at_their_bound_and_missed_just_beyond() -> None:
    summary = {"default_recall_30d": 0.6, "lift": 2.99, "new_alert_rate": 0.1, "ead_reduction": 0.31}
    table = headline_table(summary).set_index("figure")
    assert table.loc["default_recall_30d", "met"] is True and table.loc["new_alert_rate", "met"] is True
    assert table.loc["lift", "met"] is False and table.loc["ead_reduction", "met"] is True
    assert table.loc["good_limit_ratio", "met"] is None  # no value: not judged
    assert table.loc["alert_precision", "target"] == "" and table.loc["lift", "target"] == ">= 3"


def test_comparison_gives_the_challengers_change_for_numbers_only() -> None:
    current = {"policy_version": "a", "lift": 4.0, "limits_cut_share": 0.1, "defaults": 11}
    challenger = {"policy_version": "b", "lift": 4.5, "limits_cut_share": 0.25, "defaults": 11}
    table = comparison(current, challenger).set_index("figure")
    assert table.loc["policy_version", "challenger"] == "b" and pd.isna(table.loc["policy_version", "change"])
    assert table.loc["lift", "change"] == pytest.approx(0.5)
    assert table.loc["limits_cut_share", "change"] == pytest.approx(0.15)
    assert table.loc["defaults", "change"] == 0
    assert pd.isna(table.loc["ead_reduction", "change"])  # missing on both sides
