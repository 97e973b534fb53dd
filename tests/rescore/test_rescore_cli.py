"""``riskmodel rescore`` end to end: a generated ledger with bad rows, the export, a finished run started again."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from riskmodel.cli import main
from riskmodel.features.customer import customer_features
from riskmodel.ledger import load_ledger
from riskmodel.rescore import EXPORT_COLUMNS
from riskmodel.rescore.export import INVOICE_EXPORT_COLUMNS
from tests.rescore.conftest import NOT_SCORED

pytestmark = pytest.mark.slow
AS_OF = "2025-12-31"
DESIGN_COLUMNS = ["customer_id", "as_of", "pd_12m", "grade", "recommended_limit"]


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["-q", "rescore", *args])
    return code, out.getvalue()


def table_counts(db: Path) -> dict[str, int]:
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as con:
        counts = {
            name: con.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in ("score_runs", "score_run_chunks", "scores", "alerts")
        }
        counts["closed"] = con.execute(
            sa.text("SELECT count(*) FROM alerts WHERE status = 'resolved'")
        ).scalar_one()
    engine.dispose()
    return counts


@pytest.fixture(scope="module")
def first_run(generated_ledger: Path, sample_models: str, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("rescore_cli")
    db, out = folder / "results.db", folder / "scores.parquet"
    code, stdout = run_cli(
        str(generated_ledger), "--as-of", AS_OF, "--out", str(out), "--db", str(db),
        "--tracking-uri", sample_models, "--chunk-size", "40",
    )  # fmt: skip
    assert code == 0, stdout
    return db, out, stdout


def test_every_active_customer_is_scored_once_and_exported(first_run, generated_ledger):
    db, out, stdout = first_run
    exported = pd.read_parquet(out)
    ledger = load_ledger(generated_ledger)
    active = customer_features(ledger, pd.Timestamp(AS_OF).date())["customer_id"]
    assert sorted(exported["customer_id"]) == sorted(active)
    assert exported["customer_id"].is_unique
    assert table_counts(db)["scores"] == len(active)
    assert json.loads(stdout.splitlines()[-1])["customers_scored"] == len(active)


def test_summary_reports_the_drift_of_scores_and_top_features(first_run, bundle):
    _, _, stdout = first_run
    monitor = bundle.default.drift_monitor
    assert monitor.feature_names_in_[0] == "pd_12m" and len(monitor.feature_names_in_) > 1
    assert "drift vs the default model's training slice (PSI" in stdout
    listed = {line.split()[0] for line in stdout.splitlines() if line.startswith("  ")}
    assert set(monitor.feature_names_in_) <= listed
    psi = json.loads(stdout.splitlines()[-1])["drift_psi"]
    assert set(psi) == set(monitor.feature_names_in_) and psi["pd_12m"] >= 0


def test_export_columns_follow_design(first_run):
    _, out, _ = first_run
    exported = pd.read_parquet(out)
    assert list(exported.columns) == list(EXPORT_COLUMNS)
    assert list(exported.columns[: len(DESIGN_COLUMNS)]) == DESIGN_COLUMNS
    assert exported["pd_12m"].between(0, 1).all() and exported["grade"].between(1, 10).all()
    assert (exported["as_of"].astype(str) == AS_OF).all()
    reasons = exported["reasons"].map(json.loads)
    with_reasons = reasons.map(len) > 0
    assert with_reasons.any()
    row = int(np.flatnonzero(with_reasons.to_numpy())[0])
    first = reasons.iloc[row]
    assert exported["reason_1"].iloc[row] == first[0]["feature"]
    assert {"feature", "value", "contribution", "description"} <= set(first[0])
    assert exported.loc[~with_reasons, "reason_1"].isna().all()  # nothing raises the risk: no reason named
    assert exported["limit_rationale"].str.startswith("Recommended limit").all()


def test_open_invoices_are_exported_with_late_payment_probabilities(first_run):
    _, out, _ = first_run
    invoices = pd.read_parquet(out.with_name("scores_open_invoices.parquet"))
    assert list(invoices.columns) == list(INVOICE_EXPORT_COLUMNS)
    assert len(invoices) > 0 and invoices["invoice_id"].is_unique
    late = invoices[["p_late", "p_late_30", "p_late_60", "p_late_90"]].to_numpy()
    assert ((late >= 0) & (late <= 1)).all() and (late[:, :-1] >= late[:, 1:]).all()


def test_customers_with_rejected_rows_are_listed(first_run):
    db, out, stdout = first_run
    rejected = pd.read_csv(out.with_name("scores_rejected_customers.csv"))
    assert len(rejected) == 2
    assert not rejected.set_index("customer_id").loc[NOT_SCORED, "scored"]
    assert rejected["scored"].sum() == 1  # the customer with one bad invoice is scored on the rest
    assert f"{NOT_SCORED} (NOT scored" in stdout
    headline = json.loads(stdout.splitlines()[-1])
    assert (headline["customers_with_rejected_rows"], headline["customers_not_scored_rejected"]) == (2, 1)
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as con:
        source = con.execute(sa.text("SELECT source FROM score_runs")).scalar_one()
    engine.dispose()
    assert source.endswith("; 4 ledger rows rejected)")  # the customer row, two invoices, one payment


def test_a_finished_run_started_again_changes_nothing(first_run, generated_ledger, sample_models):
    db, out, _ = first_run
    before = table_counts(db)
    csv = out.with_name("again.csv")
    code, stdout = run_cli(
        str(generated_ledger), "--as-of", AS_OF, "--out", str(csv), "--db", str(db),
        "--tracking-uri", sample_models, "--chunk-size", "7",
    )  # fmt: skip
    assert code == 0
    assert table_counts(db) == before
    assert json.loads(stdout.splitlines()[-1])["status"] == "already finished"
    assert "nothing to do, the database is unchanged" in stdout
    again = pd.read_csv(csv)
    assert list(again.columns) == list(EXPORT_COLUMNS)
    pd.testing.assert_series_equal(
        again["pd_12m"], pd.read_parquet(out)["pd_12m"], check_exact=False, rtol=1e-15
    )
