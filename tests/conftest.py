"""Shared fixtures: small ledgers written as files, and telemetry off for every test."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"


def _real_data_folder() -> Path:
    """The public data sets: ``$RISKMODEL_REAL_DATA``, else ``../shared/data/real`` beside the repository, else /work/shared."""
    candidates = [
        os.environ.get("RISKMODEL_REAL_DATA"),
        REPO.parent / "shared" / "data" / "real",
        "/work/shared/data/real",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return REPO.parent / "shared" / "data" / "real"


REAL_DATA = _real_data_folder()

CUSTOMERS_CSV = """customer_id,onboarding_date,name,credit_limit,payment_terms_days
C1,2023-01-01,Acme,10000,30
C2,2023-02-01,Brick,5000,60
"""
INVOICES_CSV = """invoice_id,customer_id,issue_date,due_date,amount,settled_date,dispute_date,written_off_date
I1,C1,2023-02-01,2023-03-03,100,2023-03-01,,
I2,C1,2023-03-01,2023-03-31,250.5,,,
I3,C2,2023-03-01,2023-04-30,400,2023-05-20,2023-04-10,
"""
PAYMENTS_CSV = """payment_id,invoice_id,payment_date,amount
P1,I1,2023-03-01,100
P2,I3,2023-05-01,150
P3,I3,2023-05-20,250
"""

LedgerWriter = Callable[..., Path]


@pytest.fixture
def write_ledger_files(tmp_path: Path) -> LedgerWriter:
    """Write a small valid ledger as CSV; keyword arguments replace a file's text (None leaves it out)."""

    def write(folder: str = "ledger", **texts: str | None) -> Path:
        target = tmp_path / folder
        target.mkdir(parents=True, exist_ok=True)
        files = {"customers": CUSTOMERS_CSV, "invoices": INVOICES_CSV, "payments": PAYMENTS_CSV} | texts
        for name, text in files.items():
            if text is not None:
                (target / f"{name}.csv").write_text(text, encoding="utf-8")
        return target

    return write


# min_positives 1: the sample's onboarding model (3 defaults) is registered so that tests
# exercise the model path; the shipped default (30) leaves it to the policy rules.
FAST_TRAIN_CONFIG = """
gbm: {n_estimators: 40, early_stopping_rounds: 10, min_child_samples: 20}
min_positives: 1
min_train_positives: 1
"""


@pytest.fixture(scope="session")
def sample_models(tmp_path_factory: pytest.TempPathFactory) -> str:
    """MLflow tracking URI of a throwaway store with champions of all three models trained on ``data/sample``.

    Trained once per test session with a small GBM; tests that score, serve or rescore use it.
    """
    import contextlib
    import io

    from riskmodel.cli import main

    root = tmp_path_factory.mktemp("sample_models")
    config = root / "train.yaml"
    config.write_text(FAST_TRAIN_CONFIG, encoding="utf-8")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["-q", "train", str(SAMPLE), "--tracking-uri", uri, "--config", str(config)])
    assert code == 0, "training on data/sample failed"
    return uri
