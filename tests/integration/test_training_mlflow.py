"""`riskmodel train` end to end on a small generated ledger with a throwaway MLflow store."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from datetime import date
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from riskmodel.cli import main
from riskmodel.features.customer import customer_features
from riskmodel.features.invoice import invoice_features
from riskmodel.ledger import load_ledger
from riskmodel.ledger.write import write_tables
from riskmodel.models import CreditModel, LatePaymentModel, load_champion
from riskmodel.models.card import ledger_fingerprint
from riskmodel.models.config import load_train_config
from riskmodel.models.fit import fit_model
from riskmodel.models.specs import DEFAULT
from riskmodel.models.timing import band_of
from riskmodel.models.train import POLICY_ARTIFACT, log_fit
from riskmodel.policy import Policy, load_policy, parse_policy
from riskmodel.sample import make_sample_tables

pytestmark = pytest.mark.slow

FAST_CONFIG = """
gbm: {n_estimators: 40, early_stopping_rounds: 10, min_child_samples: 20}
min_positives: 1
"""


@dataclasses.dataclass(frozen=True)
class TrainedStore:
    ledger_dir: Path
    config_path: Path
    uri: str
    stdout: str
    exit_code: int


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> TrainedStore:
    """A 300-customer, five-year ledger trained once into a SQLite store in a temporary folder."""
    root = tmp_path_factory.mktemp("training")
    ledger_dir = root / "ledger"
    write_tables(
        make_sample_tables(n_customers=300, seed=2, start=date(2021, 1, 1), months=60), ledger_dir, fmt="csv"
    )
    config_path = root / "train.yaml"
    config_path.write_text(FAST_CONFIG, encoding="utf-8")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    code, stdout = _run(["-q", "train", str(ledger_dir), "--tracking-uri", uri, "--config", str(config_path)])
    return TrainedStore(ledger_dir, config_path, uri, stdout, code)


@pytest.fixture(scope="session")
def client(store) -> MlflowClient:
    return MlflowClient(tracking_uri=store.uri, registry_uri=store.uri)


def test_train_exits_zero_and_its_last_stdout_line_is_the_headline_json(store):
    assert store.exit_code == 0
    headline = json.loads(store.stdout.strip().splitlines()[-1])
    assert {"late_payment", "default"} <= set(headline)
    assert 0.5 < headline["late_payment"]["auc"] <= 1 and "auc_30" in headline["late_payment"]
    assert {"auc", "brier", "calibration_slope", "kind", "version"} <= set(headline["default"])


def test_train_reports_the_skipped_onboarding_model(store):
    assert "onboarding: skipped:" in store.stdout
    headline = json.loads(store.stdout.strip().splitlines()[-1])
    assert "skipped" in headline["onboarding"] and "auc" not in headline["onboarding"]


@pytest.mark.parametrize("experiment", ["riskmodel-late-payment", "riskmodel-default"])
def test_each_model_has_an_experiment_and_a_run_with_metrics_params_and_artifacts(store, client, experiment):
    found = client.get_experiment_by_name(experiment)
    assert found.artifact_location.startswith(
        (Path(store.uri.removeprefix("sqlite:///")).parent / "mlartifacts").as_uri()
    )
    (run,) = client.search_runs([found.experiment_id])
    assert 0.5 < run.data.metrics["oot.auc"] <= 1 and "oot.scorecard_auc" in run.data.metrics
    assert (
        run.data.params["gbm.n_estimators"] == "40"
        and run.data.params["features.windows_days"] == "(90, 180, 365)"
    )
    top = {a.path for a in client.list_artifacts(run.info.run_id)}
    if experiment == "riskmodel-late-payment":
        assert run.data.tags["kind"] == "hazard" and "oot.past_late_rate_auc_90" in run.data.metrics
        assert "open_invoice_calibration.csv" in top
        assert run.data.metrics["oot.open_p_below_one_when_late"] == 0
        assert run.data.metrics["oot.open_dates_before_as_of"] == 0
    else:
        assert run.data.tags["kind"] in ("gbm", "scorecard")
        assert "cv.gbm_auc" in run.data.metrics and "significant" in run.data.tags["kind_reason"]
    assert {"model_card.md", "features.json", "data_fingerprint.json", "plots", "rolling_origins.csv"} <= top
    assert "validation_model" in top
    assert (
        run.data.metrics["oot.auc_ci_low"]
        <= run.data.metrics["oot.auc"]
        <= run.data.metrics["oot.auc_ci_high"]
    )
    plots = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"roc.png", "calibration.png", "score_distribution.png"} <= plots
    assert any(name.startswith("shap_summary") for name in plots) and any(
        name.startswith("feature_importance") for name in plots
    )


def test_fingerprint_counts_rows_and_hashes_tables(store, client):
    run = client.search_runs([client.get_experiment_by_name("riskmodel-default").experiment_id])[0]
    fingerprint = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/data_fingerprint.json")
    assert fingerprint["tables"]["invoices"]["rows"] == len(pd.read_csv(store.ledger_dir / "invoices.csv"))
    assert len(fingerprint["tables"]["invoices"]["sha256"]) == 64
    assert set(fingerprint["design"]) == {"development", "validation", "labelled"}
    assert fingerprint["design"]["validation"]["positive_customers"] >= 1


@pytest.mark.parametrize("name", ["riskmodel-late-payment", "riskmodel-default"])
def test_first_version_is_registered_as_champion_and_challenger(client, name):
    version = client.get_model_version_by_alias(name, "champion")
    assert version.version == client.get_model_version_by_alias(name, "challenger").version
    assert version.tags["champion_gate.promoted"] == "True"


def test_loader_and_pyfunc_give_the_same_pd(store, client):
    model, version = load_champion("riskmodel-default", store.uri)
    assert isinstance(model, CreditModel) and version == "1"
    features = customer_features(load_ledger(store.ledger_dir), pd.Timestamp("2025-03-31").date())
    location = client.get_model_version_download_uri("riskmodel-default", version)
    pyfunc = mlflow.pyfunc.load_model(location)
    assert isinstance(pyfunc.unwrap_python_model(), CreditModel)
    np.testing.assert_allclose(pyfunc.predict(features)["pd_12m"].to_numpy(), model.predict_proba(features))


def test_loaded_models_explain_their_scores(store):
    """Late payment: the odds of no payment in the days before the due date; default: the raw score."""
    model, _ = load_champion("riskmodel-late-payment", store.uri)
    assert isinstance(model, LatePaymentModel)
    rows = invoice_features(load_ledger(store.ledger_dir)).tail(200)
    contributions, base = model.contributions(rows)
    assert contributions.shape == (200, len(model.feature_names))
    earliest = -rows["invoice_terms_days"].to_numpy(dtype=float)
    hazard = model.timing.hazards(model.preparer.transform(rows), earliest)[:, band_of(np.array([0.0]))[0]]
    np.testing.assert_allclose(contributions.sum(axis=1) + base, np.log((1 - hazard) / hazard), atol=1e-9)
    default, _ = load_champion("riskmodel-default", store.uri)
    snapshot = customer_features(
        load_ledger(store.ledger_dir), date(2025, 3, 31), default.feature_config
    ).head(50)
    contributions, base = default.contributions(snapshot)
    np.testing.assert_allclose(contributions.sum(axis=1) + base, default.raw_score(snapshot), atol=1e-9)


def _assert_graded_on(grades: pd.DataFrame, policy: Policy) -> None:
    """Each grade's mean validation PD lies within that grade's band of the policy's master scale."""
    upper = (-np.inf, *policy.master_scale.upper_pd)
    for row in grades.itertuples():
        assert upper[row.grade - 1] < row.expected_rate <= upper[row.grade]


def test_the_shipped_policy_grades_the_validation_and_is_logged(store, client):
    policy = load_policy()
    run = client.search_runs([client.get_experiment_by_name("riskmodel-default").experiment_id])[0]
    logged = mlflow.artifacts.load_text(f"{run.info.artifact_uri}/{POLICY_ARTIFACT}")
    assert logged == policy.source_text and run.data.params["policy.version"] == policy.version
    grades = pd.read_csv(io.StringIO(mlflow.artifacts.load_text(f"{run.info.artifact_uri}/grades.csv")))
    assert len(grades) > 1
    _assert_graded_on(grades, policy)


def test_a_policy_passed_to_training_grades_the_validation_and_is_logged(store, client):
    shipped = yaml.safe_load(load_policy().source_text)
    shipped["version"] = "test-scale"
    shipped["master_scale"]["upper_pd"] = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 1.0]
    policy = parse_policy(yaml.safe_dump(shipped, sort_keys=False), source="test.yaml")
    config = load_train_config(store.config_path)
    ledger = load_ledger(store.ledger_dir)
    spec = dataclasses.replace(DEFAULT, registered_name="riskmodel-policy-test")
    result = fit_model(spec, spec.build_table(ledger, None, config), ledger.data_end, config)
    run_id, _, _ = log_fit(result, config, store.uri, ledger_fingerprint(ledger, None), policy)
    uri = client.get_run(run_id).info.artifact_uri
    assert mlflow.artifacts.load_text(f"{uri}/{POLICY_ARTIFACT}") == policy.source_text
    assert client.get_run(run_id).data.params["policy.version"] == "test-scale"
    _assert_graded_on(pd.read_csv(io.StringIO(mlflow.artifacts.load_text(f"{uri}/grades.csv"))), policy)


def test_score_invoices_writes_non_increasing_probabilities_for_every_invoice(store, tmp_path):
    out = tmp_path / "scores.parquet"
    code, stdout = _run(
        ["-q", "score-invoices", str(store.ledger_dir), "--out", str(out), "--tracking-uri", store.uri]
    )
    assert code == 0 and "invoices scored" in stdout
    scores = pd.read_parquet(out)
    assert list(scores.columns[:5]) == ["invoice_id", "p_late", "p_late_30", "p_late_60", "p_late_90"]
    assert len(scores) == len(pd.read_csv(store.ledger_dir / "invoices.csv"))
    p = scores[["p_late", "p_late_30", "p_late_60", "p_late_90"]].to_numpy()
    assert (np.diff(p, axis=1) <= 0).all()
    assert scores["expected_payment_date"].notna().all()


def test_score_invoices_without_a_champion_fails_cleanly(store, tmp_path, capsys):
    code, _ = _run(
        [
            "-q",
            "score-invoices",
            str(store.ledger_dir),
            "--out",
            str(tmp_path / "s.csv"),
            "--tracking-uri",
            f"sqlite:///{tmp_path / 'empty.db'}",
        ]
    )
    assert code == 2
    assert "no version of 'riskmodel-late-payment' is 'champion'" in capsys.readouterr().err


def test_train_on_a_missing_folder_fails_cleanly(tmp_path, capsys):
    code, _ = _run(
        ["-q", "train", str(tmp_path / "nowhere"), "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}"]
    )
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_champion_gate_promotes_a_better_model_and_refuses_a_worse_one(store, client):
    """A model fitted on shuffled labels against the real one, under a registry name of their own."""
    config = load_train_config(store.config_path)
    ledger = load_ledger(store.ledger_dir)
    spec = dataclasses.replace(DEFAULT, registered_name="riskmodel-gate-test")
    table = spec.build_table(ledger, None, config)
    shuffled = table.assign(
        label_default_12m=np.random.default_rng(0).permutation(table["label_default_12m"].to_numpy())
    )
    good = fit_model(spec, table, ledger.data_end, config)
    worse = fit_model(spec, shuffled, ledger.data_end, config)
    worse = dataclasses.replace(worse, validation=good.validation)  # judged on the real out-of-time labels
    fingerprint = ledger_fingerprint(ledger, None)

    _, first, decision = log_fit(worse, config, store.uri, fingerprint)
    assert decision.promoted and decision.reason == "no champion yet"
    _, second, decision = log_fit(good, config, store.uri, fingerprint)
    assert decision.promoted and decision.champion_version == first
    assert decision.challenger_auc > decision.champion_auc
    _, third, decision = log_fit(worse, config, store.uri, fingerprint)
    assert not decision.promoted and decision.champion_version == second

    assert str(client.get_model_version_by_alias("riskmodel-gate-test", "champion").version) == second
    assert str(client.get_model_version_by_alias("riskmodel-gate-test", "challenger").version) == third
    tags = client.get_model_version("riskmodel-gate-test", third).tags
    assert tags["champion_gate.promoted"] == "False" and float(tags["champion_gate.champion_auc"]) > float(
        tags["champion_gate.challenger_auc"]
    )


def test_default_run_logs_the_calibration_choice_monotonicity_and_grade_coverage(store, client):
    run = client.search_runs([client.get_experiment_by_name("riskmodel-default").experiment_id])[0]
    method = run.data.params["calibration"].removeprefix("pd_12m:")
    assert run.data.tags["calibration_reason"].startswith(method)
    assert run.data.metrics["oot.calibration_strictly_increasing"] == 1.0
    populated = run.data.metrics["grades_populated"]
    coverage = dict(item.split(":") for item in run.data.tags["grade_coverage"].split())
    assert 1 <= populated <= 10 and sum(int(n) > 0 for n in coverage.values()) == populated
    card = mlflow.artifacts.load_text(f"{run.info.artifact_uri}/model_card.md")
    assert run.data.tags["calibration_reason"] in card and "Grades populated at the latest snapshot" in card


def test_a_late_payment_model_of_an_earlier_riskmodel_is_refused_with_retrain(store):
    """A registered payment-timing model from before the stage calibration on whole invoices is not served."""
    from riskmodel.exceptions import ModelNotFoundError
    from riskmodel.models.tracking import load_model_version

    model, _ = load_champion("riskmodel-late-payment", store.uri)
    del model.timing.typical_delay  # what a model pickled by the earlier release lacks
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(store.uri)
    try:
        with mlflow.start_run():
            mlflow.pyfunc.log_model(
                name="model", python_model=model, registered_model_name="riskmodel-old-timing"
            )
    finally:
        mlflow.set_tracking_uri(previous)
    with pytest.raises(ModelNotFoundError, match="earlier riskmodel.*riskmodel train"):
        load_model_version("riskmodel-old-timing", "1", store.uri)
