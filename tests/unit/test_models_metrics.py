"""Validation measures against hand-computed values and scikit-learn; expected against observed by policy grade."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as sklearn_log_loss

from riskmodel.models.metrics import (
    auc,
    binary_metrics,
    brier,
    calibration_slope_intercept,
    gini,
    grade_table,
    ks,
    log_loss,
    reliability_table,
)
from riskmodel.policy import load_policy
from riskmodel.validation.drift import psi

# Two negatives (0.1, 0.4) and two positives (0.35, 0.8): 3 of the 4 positive-negative
# pairs are ordered correctly, and the largest CDF gap is 0.5 (at 0.1 and at 0.4).
Y = np.array([0, 0, 1, 1])
P = np.array([0.1, 0.4, 0.35, 0.8])


def test_auc_counts_correctly_ordered_pairs():
    assert auc(Y, P) == pytest.approx(0.75)


def test_gini_is_twice_auc_minus_one():
    assert gini(Y, P) == pytest.approx(0.5)


def test_ks_is_the_largest_gap_between_the_score_distributions():
    assert ks(Y, P) == pytest.approx(0.5)


def test_ks_of_a_perfect_separation_is_one():
    assert ks(np.array([0, 0, 1]), np.array([0.1, 0.2, 0.9])) == pytest.approx(1.0)


def test_rank_measures_are_nan_with_one_class():
    assert math.isnan(auc(np.zeros(3), np.array([0.1, 0.2, 0.3])))
    assert math.isnan(ks(np.ones(3), np.array([0.1, 0.2, 0.3])))


def test_psi_by_hand():
    # expected deciles with 2 bins: edge at 0.5, shares 0.5/0.5; actual 0.25/0.75
    value = psi(np.array([0.0, 0.0, 1.0, 1.0]), np.array([0.0, 1.0, 1.0, 1.0]), n_bins=2)
    assert value == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))


def test_psi_of_identical_distributions_is_zero():
    scores = np.random.default_rng(0).uniform(size=1000)
    assert psi(scores, scores) == pytest.approx(0.0)


def test_measures_agree_with_sklearn():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.01, 0.99, 500)
    y = (rng.uniform(size=500) < p).astype(int)
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p))
    assert log_loss(y, p) == pytest.approx(sklearn_log_loss(y, p))


def test_calibrated_probabilities_have_slope_one_and_intercept_zero():
    rng = np.random.default_rng(2)
    p = 1 / (1 + np.exp(-rng.normal(-2, 1.5, 40_000)))
    y = (rng.uniform(size=p.size) < p).astype(int)
    slope, intercept = calibration_slope_intercept(y, p)
    assert slope == pytest.approx(1.0, abs=0.05)
    assert intercept == pytest.approx(0.0, abs=0.05)


def test_too_extreme_probabilities_have_slope_below_one():
    rng = np.random.default_rng(3)
    logit = rng.normal(-2, 1.5, 40_000)
    y = (rng.uniform(size=logit.size) < 1 / (1 + np.exp(-logit))).astype(int)
    too_extreme = 1 / (1 + np.exp(-2 * logit))
    slope, _ = calibration_slope_intercept(y, too_extreme)
    assert slope == pytest.approx(0.5, abs=0.05)


def test_binary_metrics_names_and_counts():
    metrics = binary_metrics(Y, P, P)
    assert metrics["n"] == 4 and metrics["n_positive"] == 2
    assert metrics["psi"] == pytest.approx(0.0)
    assert {"auc", "gini", "ks", "brier", "log_loss", "calibration_slope", "calibration_intercept"} <= set(
        metrics
    )


def test_grade_table_counts_expected_and_observed_per_grade():
    policy = load_policy()  # master scale: grade 1 up to 0.3 %, grade 10 above 30 %
    table = grade_table(np.array([0, 1, 0, 1]), np.array([0.0005, 0.0005, 0.5, 0.5]), policy.grade)
    assert table["grade"].tolist() == [1, 10]
    assert table["n"].tolist() == [2, 2]
    assert table["observed"].tolist() == [1.0, 1.0]
    assert table["expected"].to_numpy() == pytest.approx([0.001, 1.0])


def test_reliability_table_bins_hold_all_rows():
    p = np.linspace(0.01, 0.99, 100)
    table = reliability_table((p > 0.5).astype(int), p, n_bins=10)
    assert isinstance(table, pd.DataFrame)
    assert table["n"].sum() == 100 and len(table) == 10
    assert table["mean_p"].is_monotonic_increasing
