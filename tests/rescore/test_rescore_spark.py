"""The Spark engine gives the local engine's numbers: features first, then scores, grades, limits, alerts, invoices."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from riskmodel.features.customer import customer_features, customer_snapshots, snapshot_features
from riskmodel.features.definitions import FeatureConfig
from riskmodel.rescore import LocalEngine, rescore_portfolio
from riskmodel.scoring import LATE_COLUMNS, open_invoices
from riskmodel.store import ResultsStore

pytestmark = pytest.mark.slow
AS_OF = date(2025, 12, 31)
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def engine(spark):
    from riskmodel.rescore.spark import SparkEngine

    return SparkEngine(session=spark, chunks_per_job=3)


def assert_frames_close(left: pd.DataFrame, right: pd.DataFrame, key: str) -> None:
    """Same columns and rows; numbers within ``TOLERANCE`` (relative or absolute), everything else equal."""
    assert list(left.columns) == list(right.columns)
    left = left.sort_values(key, ignore_index=True)
    right = right.sort_values(key, ignore_index=True)
    assert left[key].tolist() == right[key].tolist()
    for column in left.columns:
        if pd.api.types.is_numeric_dtype(left[column]) and pd.api.types.is_numeric_dtype(right[column]):
            np.testing.assert_allclose(
                left[column].to_numpy(dtype=float),
                right[column].to_numpy(dtype=float),
                rtol=TOLERANCE,
                atol=TOLERANCE,
                equal_nan=True,
                err_msg=column,
            )
        else:
            assert left[column].astype(str).tolist() == right[column].astype(str).tolist(), column


def test_spark_feature_table_equals_duckdb(engine, sample_ledger, bundle):
    config = bundle.default.feature_config
    on_spark = engine.customer_features(sample_ledger, AS_OF, config)
    local = customer_features(sample_ledger, AS_OF, config)
    assert len(local) > 500
    assert_frames_close(on_spark.drop(columns="as_of"), local.drop(columns="as_of"), "customer_id")
    assert (pd.to_datetime(on_spark["as_of"]) == pd.Timestamp(AS_OF)).all()


def test_spark_reads_customer_history_as_duckdb_does(engine):
    from tests.unit.test_features_history import history_ledger

    ledger = history_ledger()
    config = FeatureConfig()
    for as_of in (date(2023, 3, 14), date(2023, 6, 30), date(2023, 12, 31)):
        snapshots = customer_snapshots(ledger, [as_of])
        on_spark = engine.feature_table(ledger, snapshots, "customer", config).toPandas()
        local = snapshot_features(ledger, snapshots, config)
        assert_frames_close(on_spark.drop(columns="as_of"), local.drop(columns="as_of"), "customer_id")
    assert on_spark.set_index("customer_id").loc["C1", "credit_limit"] == 6000.0


@pytest.fixture(scope="module")
def both_runs(engine, sample_ledger, bundle, tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark_vs_local")
    stores = {name: ResultsStore(folder / f"{name}.db") for name in ("spark", "local")}
    rescore_portfolio(sample_ledger, bundle, AS_OF, stores["spark"], engine=engine, chunk_size=150)
    rescore_portfolio(sample_ledger, bundle, AS_OF, stores["local"], engine=LocalEngine(), chunk_size=150)
    yield stores
    for store in stores.values():
        store.close()


def test_spark_scores_grades_and_limits_equal_local(both_runs, bundle):
    spark_scores, local_scores = (
        both_runs[name].scores_for(AS_OF, bundle.model_version) for name in ("spark", "local")
    )
    numbers = ["customer_id", "pd_12m", "grade", "current_limit", "recommended_limit", "limit_rationale"]
    assert_frames_close(spark_scores[numbers], local_scores[numbers], "customer_id")
    merged = spark_scores.merge(local_scores, on="customer_id", suffixes=("_spark", "_local"))
    for mine, theirs in zip(merged["reasons_spark"], merged["reasons_local"], strict=True):
        mine, theirs = json.loads(mine), json.loads(theirs)
        assert [r["feature"] for r in mine] == [r["feature"] for r in theirs]
        np.testing.assert_allclose(
            [r["contribution"] for r in mine],
            [r["contribution"] for r in theirs],
            rtol=TOLERANCE,
            atol=TOLERANCE,
        )
    assert both_runs["spark"].run(spark_scores["run_id"].iloc[0])["engine"] == "spark"


def test_spark_raises_the_same_alerts(both_runs):
    identity = ["customer_id", "alert_type", "key", "severity"]
    spark_alerts, local_alerts = (
        both_runs[name].open_alerts()[identity].sort_values(identity, ignore_index=True)
        for name in ("spark", "local")
    )
    assert len(local_alerts) > 0
    pd.testing.assert_frame_equal(spark_alerts, local_alerts)


def test_spark_open_invoice_scores_equal_local(engine, sample_ledger, bundle):
    invoices = open_invoices(sample_ledger, AS_OF, customer_features(sample_ledger, AS_OF)["customer_id"])
    on_spark = engine.score_invoices(bundle, sample_ledger, invoices)
    local = LocalEngine().score_invoices(bundle, sample_ledger, invoices)
    columns = ["invoice_id", *LATE_COLUMNS, "expected_payment_date"]
    assert on_spark[list(LATE_COLUMNS)].notna().all().all()
    assert_frames_close(on_spark[columns], local[columns], "invoice_id")


def test_spark_grades_by_the_payment_rules_as_local_does_without_a_default_model(engine, tmp_path):
    """A small ledger without payments, a bundle without models: Spark's rows equal the local engine's."""
    from riskmodel.ledger import load_ledger
    from riskmodel.policy import load_policy
    from riskmodel.scoring import ModelBundle
    from tests.small_ledger import END, write_small_ledger

    ledger = load_ledger(write_small_ledger(tmp_path / "ledger"))
    rules = ModelBundle(policy=load_policy())
    stored = {}
    for name, runner in (("spark", engine), ("local", LocalEngine())):
        store = ResultsStore(tmp_path / f"{name}.db")
        rescore_portfolio(ledger, rules, END, store, engine=runner, chunk_size=15)
        stored[name] = store.scores_for(END, rules.model_version)
        store.close()
    assert len(stored["local"]) == 40 and (stored["spark"]["basis"] == "rules").all()
    columns = ["customer_id", "pd_12m", "grade", "basis", "recommended_limit", "limit_rationale"]
    assert_frames_close(stored["spark"][columns], stored["local"][columns], "customer_id")
    merged = stored["spark"].merge(stored["local"], on="customer_id", suffixes=("_spark", "_local"))
    for mine, theirs in zip(merged["reasons_spark"], merged["reasons_local"], strict=True):
        mine, theirs = json.loads(mine), json.loads(theirs)  # feature values agree to float rounding
        assert [(r["feature"], r["contribution"], r["description"]) for r in mine] == [
            (r["feature"], r["contribution"], r["description"]) for r in theirs
        ]
        for a, b in zip(mine, theirs, strict=True):
            assert a["value"] == (
                b["value"] if isinstance(b["value"], str | None) else pytest.approx(b["value"])
            )
