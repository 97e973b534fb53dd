"""Fixtures of the rescoring tests: the sample models and ledger, a generated ledger with bad rows, one SparkSession."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from riskmodel.ledger import load_ledger
from riskmodel.ledger.tables import Ledger
from riskmodel.ledger.write import write_tables
from riskmodel.sample import make_sample_tables
from riskmodel.scoring import ModelBundle
from tests.conftest import SAMPLE

GENERATED_CUSTOMERS = 200
NOT_SCORED = "GEN-BAD-ONBOARDING"  # customer row rejected: none of its rows can be scored


@pytest.fixture(scope="session")
def bundle(sample_models: str) -> ModelBundle:
    return ModelBundle.from_registry(sample_models)


@pytest.fixture(scope="session")
def sample_ledger() -> Ledger:
    return load_ledger(SAMPLE)


@pytest.fixture(scope="session")
def generated_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 generated customers (seed 7) as CSV, plus bad rows.

    A customer whose row is rejected (so are its invoice and payment, which name it) and
    a negative amount on a new invoice of a valid customer, who is still scored.
    """
    folder = tmp_path_factory.mktemp("generated") / "ledger"
    write_tables(make_sample_tables(n_customers=GENERATED_CUSTOMERS, seed=7), folder, fmt="csv")
    text = {name: _read_text(folder / f"{name}.csv") for name in ("customers", "invoices", "payments")}
    valid = text["invoices"].iloc[0]
    extra = {
        "customers": [{"customer_id": NOT_SCORED, "onboarding_date": "not-a-date"}],
        "invoices": [
            {
                "invoice_id": "GEN-INV-ORPHAN",
                "customer_id": NOT_SCORED,
                "issue_date": "2025-10-01",
                "due_date": "2025-10-31",
                "amount": "100",
            },
            {**valid.to_dict(), "invoice_id": "GEN-INV-NEGATIVE", "amount": "-5"},
        ],
        "payments": [
            {
                "payment_id": "GEN-PAY-ORPHAN",
                "invoice_id": "GEN-INV-ORPHAN",
                "payment_date": "2025-10-15",
                "amount": "100",
            }
        ],
    }
    for name, rows in extra.items():
        frame = pd.concat([text[name], pd.DataFrame(rows)], ignore_index=True).fillna("")
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def _read_text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local SparkSession (two cores) for every Spark test of the session."""
    pytest.importorskip("pyspark")
    from riskmodel.rescore.spark import spark_session

    session = spark_session("local[2]", conf={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()
