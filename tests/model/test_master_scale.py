"""The calibrated default model spreads a generated book of a few thousand customers over the master scale.

A step-function calibration leaves a handful of distinct PDs, so grades go empty and PDs jump
across grades from one month to the next; the calibrated PD must instead rise strictly with
the score and populate most grades at a month end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.features.customer import customer_features
from riskmodel.ledger import ledger_from_frames
from riskmodel.models.calibration import strictly_increasing
from riskmodel.models.config import GBMParams, TrainConfig
from riskmodel.models.fit import FitResult, fit_model
from riskmodel.models.specs import DEFAULT
from riskmodel.policy import load_policy
from riskmodel.sample import make_sample_tables

pytestmark = [pytest.mark.model, pytest.mark.slow]

CONFIG = TrainConfig(gbm=GBMParams(n_estimators=150, early_stopping_rounds=20, min_child_samples=50))
MIN_GRADES = 8  # of the 10 grades, populated at the month end


@pytest.fixture(scope="module")
def ledger():
    return ledger_from_frames(make_sample_tables(n_customers=3000, seed=11))


@pytest.fixture(scope="module")
def default(ledger) -> FitResult:
    table = DEFAULT.build_table(ledger, None, CONFIG)
    return fit_model(DEFAULT, table, ledger.data_end, CONFIG)


@pytest.fixture(scope="module")
def month_end_pd(ledger, default) -> np.ndarray:
    as_of = pd.offsets.MonthEnd().rollback(pd.Timestamp(ledger.data_end)).date()
    features = customer_features(ledger, as_of, CONFIG.features)
    return default.model.predict(features)["pd_12m"].to_numpy()


def test_most_grades_hold_customers_at_the_month_end(month_end_pd):
    grades = load_policy().grade(month_end_pd)
    counts = pd.Series(grades).value_counts().reindex(range(1, 11), fill_value=0)
    assert len(month_end_pd) > 1000
    assert (counts > 0).sum() >= MIN_GRADES, f"customers by grade: {counts.to_dict()}"


def test_calibrated_pd_rises_strictly_with_the_score_over_the_validation_rows(default):
    head = default.model.heads[0]
    validation = default.validation
    raw = head.raw_score(default.model.preparer.transform(validation))
    assert strictly_increasing(head.calibrator, raw)
    assert default.metrics["calibration_strictly_increasing"] == 1.0
    assert default.metrics["calibration_distinct_pd"] >= CONFIG.calibration.min_distinct


def test_month_end_pds_are_not_a_handful_of_steps(month_end_pd):
    assert len(np.unique(month_end_pd)) > 0.9 * len(month_end_pd)
