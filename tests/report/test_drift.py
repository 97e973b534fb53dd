"""Drift monitoring: PSI values computed by hand, policy levels, missing values and categories."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from riskmodel.policy import load_policy
from riskmodel.policy.config import DriftThresholds
from riskmodel.validation.drift import REPORT_COLUMNS, column_drift, drift_report, drift_status

LEVELS = DriftThresholds(psi_warning=0.1, psi_severe=0.25)
REFERENCE = pd.Series(np.arange(10.0), name="x")  # one value in each decile bin


def _hand_psi(expected: list[float], actual: list[float]) -> float:
    return sum((a - e) * math.log(a / e) for e, a in zip(expected, actual, strict=True))


def test_psi_matches_the_hand_computed_value_when_one_bin_gains_mass():
    # current: the ten reference values plus ten more zeros -> bin 0 holds 11/20, the others 1/20 each
    current = pd.Series(np.r_[np.arange(10.0), np.zeros(10)], name="x")
    expected = _hand_psi([0.1] * 10, [0.55] + [0.05] * 9)  # 0.45 ln 5.5 + 9 (-0.05) ln 0.5 = 1.0790
    assert column_drift(REFERENCE, current, LEVELS)["psi"] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(1.079053, rel=1e-6)


def test_psi_of_two_windows_with_the_same_shares_is_zero_and_stable():
    current = pd.Series(np.repeat(np.arange(10.0), 3), name="x")
    row = column_drift(REFERENCE, current, LEVELS)
    assert row["psi"] == pytest.approx(0.0, abs=1e-12)
    assert row["status"] == "stable"


def test_empty_bins_count_as_a_share_of_one_in_ten_thousand():
    current = pd.Series(np.zeros(10), name="x")  # everything in bin 0, nine bins empty
    expected = _hand_psi([0.1] * 10, [1.0] + [1e-4] * 9)
    assert column_drift(REFERENCE, current, LEVELS)["psi"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (0.0, "stable"),
        (0.0999, "stable"),
        (0.1, "warning"),
        (0.2499, "warning"),
        (0.25, "severe"),
        (3.0, "severe"),
    ],
    ids=["zero", "below-warning", "at-warning", "below-severe", "at-severe", "far-above"],
)
def test_status_follows_the_policy_levels_inclusive(value, status):
    assert drift_status(value, LEVELS) == status


def test_the_shipped_policy_levels_are_used():
    drift = load_policy().drift
    assert (drift.psi_warning, drift.psi_severe) == (0.1, 0.25)
    assert drift_status(0.12, drift) == "warning"


def test_missing_values_are_left_out_of_the_index_and_reported_as_shares():
    current = pd.Series([*np.arange(10.0), np.nan, np.nan, np.nan, np.nan, np.nan], name="x")
    row = column_drift(REFERENCE, current, LEVELS)
    assert row["psi"] == pytest.approx(0.0, abs=1e-12)
    assert (row["missing_reference"], row["missing_current"]) == (0.0, pytest.approx(5 / 15))
    assert (row["n_reference"], row["n_current"]) == (10, 15)


def test_a_column_missing_in_every_current_row_has_no_index():
    row = column_drift(REFERENCE, pd.Series([np.nan] * 4, name="x"), LEVELS)
    assert math.isnan(row["psi"]) and row["status"] == "no data"
    assert row["missing_current"] == 1.0


def test_categories_are_compared_by_share_and_unseen_ones_count_as_missing():
    reference = pd.Series(list("aaaaabbbbb"), name="industry")
    current = pd.Series(list("aaaaaaaabbz"), name="industry")  # a 8/10, b 2/10 among known; z unseen
    row = column_drift(reference, current, LEVELS)
    # two categories: bins a and b (the code quantiles split them); shares 0.5/0.5 -> 0.8/0.2
    assert row["psi"] == pytest.approx(_hand_psi([0.5, 0.5], [0.8, 0.2]), rel=1e-12)
    assert row["missing_current"] == pytest.approx(1 / 11)


def test_report_has_one_row_per_column_largest_psi_first():
    reference = pd.DataFrame({"stable": np.arange(10.0), "shifted": np.arange(10.0)})
    current = pd.DataFrame({"stable": np.arange(10.0), "shifted": np.zeros(10)})
    report = drift_report(reference, current, LEVELS)
    assert list(report.columns) == list(REPORT_COLUMNS)
    assert report["feature"].tolist() == ["shifted", "stable"]
    assert report.set_index("feature").loc["stable", "status"] == "stable"
    assert report.set_index("feature").loc["shifted", "status"] == "severe"


def test_report_defaults_to_the_shared_columns_and_rejects_unknown_ones():
    reference = pd.DataFrame({"a": np.arange(10.0), "only_reference": np.arange(10.0)})
    current = pd.DataFrame({"a": np.arange(10.0)})
    assert drift_report(reference, current, LEVELS)["feature"].tolist() == ["a"]
    with pytest.raises(KeyError, match=r"\['only_reference'\] are not in both windows"):
        drift_report(reference, current, LEVELS, columns=["a", "only_reference"])
