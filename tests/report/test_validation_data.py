"""Out-of-time rows rebuilt from the ledger are the run's own validation slice, never training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.ledger import load_ledger
from riskmodel.models.metrics import auc
from riskmodel.policy import load_policy
from riskmodel.portfolio import alert_summary, exposure_by_grade, limit_actions, performing_scores
from riskmodel.scoring import ModelBundle, score_customers
from riskmodel.validation.data import (
    explain_rows,
    load_champion_run,
    rebuild_out_of_time,
    reproduction_checks,
)
from tests.conftest import SAMPLE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ledger():
    return load_ledger(SAMPLE)


@pytest.fixture(scope="module")
def default_oot(sample_models, ledger):
    return rebuild_out_of_time(load_champion_run("default", sample_models), ledger)


def test_rebuild_matches_every_logged_slice_and_the_logged_auc(default_oot):
    checks = reproduction_checks(default_oot)
    assert checks["match"].all(), checks[~checks["match"]].to_string()
    assert "out-of-time AUC" in checks["check"].tolist()


def test_out_of_time_rows_come_one_horizon_after_every_development_row(default_oot):
    dates = pd.to_datetime(default_oot.table[default_oot.spec.date_column])
    validation = dates.iloc[default_oot.rows("validation")]
    development = dates.iloc[default_oot.rows("development")]
    assert validation.min() > default_oot.design.cut >= development.max() + pd.DateOffset(months=12)
    assert not set(default_oot.rows("validation")) & set(default_oot.rows("development"))


def test_validation_rows_are_scored_by_the_model_that_never_saw_them(default_oot):
    assert default_oot.run.validation_model.trained_as_of == default_oot.design.cut.date()
    assert default_oot.run.model.trained_as_of > default_oot.design.cut.date()


def test_outcomes_are_the_labelled_validation_rows_the_run_scored(default_oot):
    y, p = default_oot.outcomes(default_oot.spec.targets[0])
    assert len(y) == default_oot.run.metrics["oot.n"]
    assert y.sum() == default_oot.run.metrics["oot.n_positive"]
    assert auc(y, p) == pytest.approx(default_oot.run.metrics["oot.auc"], rel=1e-12)


def test_contributions_add_up_to_the_raw_score(default_oot):
    contributions = explain_rows(default_oot, max_rows=200)
    assert set(contributions.rows) <= set(default_oot.rows("validation"))
    raw = default_oot.run.model.raw_score(default_oot.table.iloc[contributions.rows])
    base = raw - contributions.values.sum(axis=1)
    assert contributions.values.shape == (200, len(contributions.names))
    assert np.allclose(base, base[0])  # one base for every row: the rows are explained in full
    assert contributions.top(3) == list(contributions.importance().index[:3])


def test_portfolio_tables_add_up_to_the_scored_customers(sample_models, ledger):
    bundle = ModelBundle.from_registry(sample_models, policy=load_policy())
    result = score_customers(bundle, ledger, ledger.data_end)
    exposure = exposure_by_grade(result).set_index("grade")
    assert exposure.loc["all", "n_customers"] == len(result.scores)
    assert exposure.index.tolist() == [*range(1, 11), "all"]
    assert exposure.loc["all", "recommended_limit"] == pytest.approx(result.scores["recommended_limit"].sum())
    assert limit_actions(result)["n_customers"].sum() == len(result.scores)
    assert alert_summary(result)["n_alerts"].sum() == len(result.alerts.open)
    performing = performing_scores(result)
    assert len(performing) == len(result.scores) - int(
        result.scores.get("in_default", pd.Series(False)).sum()
    )
    assert (performing["pd_12m"] < 1).all()
