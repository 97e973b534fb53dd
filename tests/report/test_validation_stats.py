"""Bootstrap intervals, binomial tests by grade and grade migration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from riskmodel.models.metrics import auc, ks
from riskmodel.policy import load_policy
from riskmodel.validation.stats import (
    RankedScores,
    discrimination_table,
    grade_calibration,
    mean_auc_interval,
)


@pytest.mark.parametrize("n_rows", [8, 60, 400])
def test_resampled_auc_and_ks_equal_the_metrics_on_the_resampled_rows(n_rows):
    rng = np.random.default_rng(n_rows)
    p = np.round(rng.uniform(size=n_rows), 1)  # rounded: many ties
    y = (rng.uniform(size=n_rows) < p).astype(float)
    y[:2] = [0.0, 1.0]
    ranked = RankedScores(y, p)
    for _ in range(50):
        rows = np.r_[0, 1, rng.integers(0, n_rows, n_rows - 2)]  # both classes present
        weights = np.bincount(rows, minlength=n_rows).astype(float)
        assert ranked.auc_ks(weights) == pytest.approx(
            (auc(y[rows], p[rows]), ks(y[rows], p[rows])), abs=1e-12
        )


def test_discrimination_interval_brackets_the_estimate_and_narrows_with_more_rows():
    rng = np.random.default_rng(0)
    widths = []
    for n_rows in (500, 8000):
        p = rng.uniform(0, 0.3, n_rows)
        y = (rng.uniform(size=n_rows) < p).astype(float)
        table = discrimination_table(y, p, n_resamples=300).set_index("measure")
        assert (table["lower"] <= table["estimate"]).all() and (table["estimate"] <= table["upper"]).all()
        assert table.loc["Gini", "estimate"] == pytest.approx(2 * table.loc["AUC", "estimate"] - 1)
        widths.append(table.loc["AUC", "upper"] - table.loc["AUC", "lower"])
    assert widths[1] < widths[0] / 2


def test_discrimination_table_is_reproducible_under_a_seed():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=300)
    y = (rng.uniform(size=300) < p).astype(float)
    first = discrimination_table(y, p, n_resamples=100, seed=7)
    pd.testing.assert_frame_equal(first, discrimination_table(y, p, n_resamples=100, seed=7))


def _scored_rows(n_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=n_rows)
    return (rng.uniform(size=n_rows) < p).astype(float), p


def test_mean_auc_interval_of_one_holdout_is_the_discrimination_interval():
    y, p = _scored_rows(400, 2)
    estimate, lower, upper = mean_auc_interval([(np.arange(400), y, p)], n_resamples=200, seed=3)
    table = discrimination_table(y, p, n_resamples=200, seed=3).set_index("measure")
    assert (estimate, lower, upper) == pytest.approx(tuple(table.loc["AUC", ["estimate", "lower", "upper"]]))


def test_mean_auc_interval_moves_shared_rows_together():
    y, p = _scored_rows(600, 4)
    ids = np.arange(600)
    once = mean_auc_interval([(ids, y, p)], n_resamples=300)
    twice = mean_auc_interval([(ids, y, p), (ids, y, p)], n_resamples=300)
    assert twice == pytest.approx(once)  # the same rows held out twice carry no new information
    halves = mean_auc_interval(
        [(ids[:300], y[:300], p[:300]), (ids[300:], y[300:], p[300:])], n_resamples=300
    )
    assert halves[1] <= halves[0] <= halves[2]
    assert halves[0] == pytest.approx((auc(y[:300], p[:300]) + auc(y[300:], p[300:])) / 2)


def test_binomial_test_per_grade_matches_scipy_and_flags_underestimated_grades():
    # grade 2 (pd 0.004): 5 defaults among 100 where 0.4 were expected; grade 5 (pd 0.03): 3 among 100, as expected
    p = np.r_[np.full(100, 0.004), np.full(100, 0.03)]
    y = np.r_[np.ones(5), np.zeros(95), np.ones(3), np.zeros(97)]
    table = grade_calibration(y, p, load_policy().grade).set_index("grade")
    assert list(table.index) == [2, 5, "all"]
    assert table.loc[2, "p_value"] == pytest.approx(binomtest(5, 100, 0.004).pvalue)
    assert table.loc[2, "result"] == "more events than predicted"
    assert table.loc[5, "result"] == "in line"
    assert table.loc["all", ["n", "observed", "expected"]].tolist() == pytest.approx([200, 8, 3.4])
    assert table.loc[2, "observed_low"] < 0.05 < table.loc[2, "observed_high"]


def test_fewer_events_than_predicted_is_named_as_such():
    p, y = np.full(400, 0.2), np.zeros(400)
    table = grade_calibration(y, p, load_policy().grade)
    assert table["result"].tolist() == ["fewer events than predicted"] * 2
