"""Fitting the three models on small generated ledgers, including ledgers with little in them."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from riskmodel.exceptions import NotEnoughDataError
from riskmodel.ledger import ledger_from_frames
from riskmodel.ledger.tables import Ledger
from riskmodel.models.config import GBMParams, TrainConfig
from riskmodel.models.fit import FitResult, fit_model
from riskmodel.models.pipeline import CreditModel, LatePaymentModel
from riskmodel.models.specs import DEFAULT, LATE_PAYMENT, ModelSpec
from riskmodel.models.timing import BAND_EDGES, band_of
from riskmodel.models.train import train_models
from riskmodel.sample import make_sample_tables

FAST = TrainConfig(gbm=GBMParams(n_estimators=40, early_stopping_rounds=10, min_child_samples=20))
PROBABILITIES = ["p_late", "p_late_30", "p_late_60", "p_late_90"]


def _fit(spec: ModelSpec, ledger: Ledger) -> FitResult:
    return fit_model(spec, spec.build_table(ledger, None, FAST), ledger.data_end, FAST)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    """Five years from 2021 without customer_history: the undated-feature tests need it absent."""
    return make_sample_tables(n_customers=300, seed=2, start=date(2021, 1, 1), months=60, history=False)


@pytest.fixture(scope="module")
def ledger(tables) -> Ledger:
    return ledger_from_frames(tables)


@pytest.fixture(scope="module")
def late(ledger) -> FitResult:
    return _fit(LATE_PAYMENT, ledger)


@pytest.fixture(scope="module")
def default(ledger) -> FitResult:
    return _fit(DEFAULT, ledger)


def test_late_payment_probabilities_are_non_increasing_in_the_threshold_for_every_invoice(late, ledger):
    table = LATE_PAYMENT.build_table(ledger, None, FAST)
    p = late.model.predict_proba(table)[PROBABILITIES].to_numpy()
    assert len(p) == len(table)
    assert (np.diff(p, axis=1) <= 0).all()
    assert ((p > 0) & (p < 1)).all()


def test_late_payment_model_gives_expected_days_beyond_terms(late, ledger):
    frame = late.model.predict_proba(LATE_PAYMENT.build_table(ledger, None, FAST).head(50))
    days = frame["expected_days_beyond_terms"]
    assert days.notna().all() and days.between(-30, 200).all()
    assert late.metrics["days_beyond_terms_mae"] > 0


@pytest.mark.parametrize("threshold", [0, 30, 60, 90])
def test_late_payment_contributions_add_up_to_the_odds_of_no_payment_just_before_the_threshold(
    late, ledger, threshold
):
    rows = LATE_PAYMENT.build_table(ledger, None, FAST).head(100)
    output = PROBABILITIES[[0, 30, 60, 90].index(threshold)]
    contributions, base = late.model.contributions(rows, output)
    assert contributions.shape == (100, len(late.model.feature_names))
    band = band_of(np.array([float(threshold)]))[0]
    assert BAND_EDGES[band] == threshold
    earliest = -rows["invoice_terms_days"].to_numpy(dtype=float)
    hazard = late.model.timing.hazards(late.model.preparer.transform(rows), earliest)[:, band]
    np.testing.assert_allclose(contributions.sum(axis=1) + base, np.log((1 - hazard) / hazard), atol=1e-9)


def test_default_contributions_add_up_to_the_raw_score(default, ledger):
    rows = DEFAULT.build_table(ledger, None, FAST).head(100)
    contributions, base = default.model.contributions(rows)
    np.testing.assert_allclose(contributions.sum(axis=1) + base, default.model.raw_score(rows), atol=1e-9)


def test_default_model_gives_a_calibrated_pd_per_row(default, ledger):
    rows = DEFAULT.build_table(ledger, None, FAST)
    pd_12m = default.model.predict_proba(rows)
    assert isinstance(default.model, CreditModel) and pd_12m.shape == (len(rows),)
    assert ((pd_12m > 0) & (pd_12m < 1)).all()
    assert default.kind in ("gbm", "scorecard") and default.model.kind == default.kind


def test_development_rows_close_their_window_before_validation_with_a_gap_of_one_horizon(default):
    s = default.design_summary
    cut = pd.Timestamp(s["validation"]["cut"])
    last_development = pd.Timestamp(s["development"]["last_date"])
    assert (
        last_development + pd.DateOffset(months=FAST.horizon_months)
        <= cut
        < pd.Timestamp(s["validation"]["first_date"])
    )
    assert s["development"]["positive"] > 0 and s["validation"]["positive"] > 0


def test_registered_model_is_refitted_on_every_labelled_row(default, ledger):
    s = default.design_summary
    assert s["labelled"]["rows"] > s["development"]["rows"] + s["validation"]["rows"]
    assert default.model.trained_as_of == ledger.data_end
    assert default.validation_model.trained_as_of == pd.Timestamp(s["validation"]["cut"]).date()
    assert default.model is not default.validation_model


def test_validation_measures_are_reported_for_both_candidates(default):
    m = default.metrics
    for key in ("auc", "gbm_auc", "scorecard_auc", "brier", "calibration_slope", "psi", "cv_gbm_auc"):
        assert key in m
    assert 0.5 < m["auc"] <= 1
    assert m["auc_ci_low"] <= m["auc"] <= m["auc_ci_high"]
    assert m["calibration_slope_ci_low"] <= m["calibration_slope"] <= m["calibration_slope_ci_high"]
    assert 1 <= m["n_positive_customers"] <= m["n_positive"]


def test_rolling_origins_and_the_validation_cut_are_reported(default):
    origins = default.origins
    assert origins["origin"].iloc[-1].startswith("validation") and len(origins) >= 2
    assert (origins["test_positive_customers"] <= origins["test_positive"]).all()
    assert default.choice_reason.endswith(("the GBM is chosen", "the simpler scorecard is kept"))


def test_no_feature_column_carries_the_label(late, default):
    for result in (late, default):
        assert not any(
            name.startswith("label_") or name == "days_beyond_terms" for name in result.model.feature_names
        )


# --- ledgers with little in them -------------------------------------------------------------


def test_ledger_with_only_customers_and_invoices_trains(tables):
    customers = tables["customers"][["customer_id", "onboarding_date"]]
    ledger = ledger_from_frames({"customers": customers, "invoices": tables["invoices"]})
    result = _fit(LATE_PAYMENT, ledger)
    assert isinstance(result.model, LatePaymentModel)
    for absent in ("bureau_score", "annual_revenue", "credit_limit", "n_credit_events", "limit_utilisation"):
        assert absent not in result.model.feature_names and absent in result.model.preparer.dropped_
    assert _fit(DEFAULT, ledger).model.feature_names


def test_ledger_with_the_same_terms_everywhere_trains(tables):
    invoices = tables["invoices"].copy()
    shift = invoices["issue_date"] + pd.Timedelta(days=30) - invoices["due_date"]
    invoices["due_date"] = invoices["issue_date"] + pd.Timedelta(days=30)
    end = invoices["issue_date"].max()
    for column in ("settled_date", "written_off_date"):
        moved = invoices[column] + shift
        invoices[column] = moved.where(moved <= end)
    customers = tables["customers"].assign(payment_terms_days=30)
    ledger = ledger_from_frames({"customers": customers, "invoices": invoices, "events": tables["events"]})
    result = _fit(LATE_PAYMENT, ledger)
    assert (
        "invoice_terms_days" in result.model.preparer.dropped_
        and "payment_terms_days" in result.model.preparer.dropped_
    )
    assert (
        np.diff(result.model.predict_proba(result.validation)[PROBABILITIES].to_numpy(), axis=1) <= 0
    ).all()


@pytest.fixture(scope="module")
def ledger_without_defaults(tables) -> Ledger:
    """Every invoice paid between 5 days early and 5 days late; no write-offs, no events."""
    invoices = tables["invoices"].copy()
    end = invoices["issue_date"].max()
    delay = pd.to_timedelta(np.arange(len(invoices)) % 11 - 5, unit="D")
    settled = invoices["due_date"] + delay
    invoices["settled_date"] = settled.where(settled <= end)
    invoices["written_off_date"] = pd.NaT
    return ledger_from_frames({"customers": tables["customers"], "invoices": invoices})


def test_ledger_without_defaults_raises_not_enough_data_for_the_default_model(ledger_without_defaults):
    with pytest.raises(NotEnoughDataError, match="default: no positive case of label_default_12m"):
        _fit(DEFAULT, ledger_without_defaults)


def test_ledger_without_defaults_skips_the_credit_models_with_the_message(ledger_without_defaults, tmp_path):
    uri = f"sqlite:///{tmp_path / 'unused.db'}"
    results = train_models(ledger_without_defaults, uri, models=["default", "onboarding"], config=FAST)
    assert [r.status for r in results] == ["skipped", "skipped"]
    assert "0 positive case(s)" in results[0].message and "min_positives" in results[0].message
    assert not (tmp_path / "unused.db").exists()


def test_ledger_without_defaults_still_trains_late_payment_with_observed_band_rates(ledger_without_defaults):
    from riskmodel.models.timing import BandRates, CalibratedStage

    result = _fit(LATE_PAYMENT, ledger_without_defaults)
    stages = result.model.timing.stages_
    assert isinstance(stages[0], CalibratedStage)  # payment by the due date is modelled
    assert isinstance(stages[-1], BandRates)  # too few payments beyond 90 days: their observed rates
    p = result.model.predict_proba(result.validation)[PROBABILITIES].to_numpy()
    assert (np.diff(p, axis=1) <= 0).all()


# --- customer facts without dates --------------------------------------------------------------

UNDATED = {
    "credit_limit",
    "payment_terms_days",
    "annual_revenue",
    "employees",
    "registered_capital",
    "bureau_score",
    "limit_utilisation",
}


def test_undated_features_are_the_dated_facts_and_what_reads_them():
    from riskmodel.features.definitions import features_for
    from riskmodel.features.definitions.customer_facts import undated_features

    assert {f.name for f in undated_features(features_for("customer"))} == UNDATED
    assert {f.name for f in undated_features(features_for("onboarding"))} == UNDATED - {
        "limit_utilisation",
        "credit_limit",
    }


def test_training_without_history_warns_and_tags_the_undated_features(ledger, tmp_path, caplog):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with caplog.at_level("WARNING", logger="riskmodel.models.train"):
        (result,) = train_models(ledger, uri, models=["late_payment"], config=FAST)
    warning = next(r.getMessage() for r in caplog.records if "customer_history" in r.getMessage())
    assert "late_payment" in warning and "--exclude-undated" in warning
    assert all(name in warning for name in UNDATED)
    tags = MlflowClient(uri).get_run(result.run_id).data.tags
    assert set(tags["undated_features"].split(",")) == UNDATED
    assert tags["undated_features_excluded"] == "False"


def test_train_exclude_undated_fits_without_them(tables, tmp_path):
    import contextlib
    import io

    from mlflow.tracking import MlflowClient

    from riskmodel.cli import main
    from riskmodel.ledger.write import write_tables
    from riskmodel.models import load_champion

    write_tables(tables, tmp_path / "ledger")
    config = tmp_path / "train.yaml"
    config.write_text(
        "min_positives: 1\ngbm: {n_estimators: 40, early_stopping_rounds: 10, min_child_samples: 20}\n"
    )
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    argv = ["train", str(tmp_path / "ledger"), "--models", "late_payment", "--tracking-uri", uri]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main([*argv, "--config", str(config), "--exclude-undated"]) == 0
    model, _ = load_champion(LATE_PAYMENT.registered_name, uri)
    assert model.feature_names and not UNDATED & set(model.feature_names)
    assert "bureau_score" not in model.preparer.dropped_  # left out before fitting, not dropped as empty
    (run,) = MlflowClient(uri).search_runs(
        [e.experiment_id for e in MlflowClient(uri).search_experiments()], "tags.model = 'late_payment'"
    )
    assert run.data.tags["undated_features_excluded"] == "True"


def test_training_with_history_has_no_undated_features(tables):
    from riskmodel.models.specs import MODEL_SPECS
    from riskmodel.models.train import _candidate_features

    history = tables["customers"][["customer_id", "onboarding_date", "credit_limit"]].rename(
        columns={"onboarding_date": "date"}
    )
    with_history = ledger_from_frames({**tables, "customer_history": history}, strict=True)
    features, tags = _candidate_features(MODEL_SPECS["default"], with_history, FAST, exclude_undated=True)
    assert UNDATED <= {f.name for f in features}
    assert tags == {"undated_features": "", "undated_features_excluded": "False"}
