"""The invoice-level feature table written chunk by chunk equals the table computed in memory."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.features.engine import write_feature_query
from riskmodel.features.invoice import invoice_features, invoice_snapshots
from riskmodel.ledger import load_ledger
from tests.small_ledger import write_small_ledger

AS_OF = dt.date(2023, 6, 30)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_small_ledger(tmp_path_factory.mktemp("file") / "ledger")


def _read(path) -> pd.DataFrame:
    frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    frame["issue_date"] = pd.to_datetime(frame["issue_date"])
    return frame


def _assert_same(written: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(written.columns) == list(expected.columns)
    expected = expected.assign(issue_date=pd.to_datetime(expected["issue_date"]).astype("datetime64[ns]"))
    written = written.assign(issue_date=written["issue_date"].astype("datetime64[ns]"))
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)


@pytest.mark.parametrize("chunk", [10**9, 300], ids=["one-chunk", "many-chunks"])
def test_written_rows_equal_the_table_in_memory_in_its_order(folder, tmp_path, chunk):
    ledger = load_ledger(folder)
    expected = invoice_features(ledger, AS_OF)
    path = tmp_path / "invoices.parquet"
    snapshots = invoice_snapshots(ledger, AS_OF)
    rows = write_feature_query(
        ledger, snapshots, "invoice", path, keys=("invoice_id", "issue_date"), snapshots_per_chunk=chunk
    )
    assert rows == len(expected) > 300
    _assert_same(_read(path), expected)
    assert list(tmp_path.iterdir()) == [path]  # the chunks' file is gone


def test_cli_writes_the_invoice_level_table_as_csv(folder, tmp_path, capsys):
    path = tmp_path / "out" / "invoices.csv"
    code = main(
        ["features", str(folder), "--as-of", AS_OF.isoformat(), "--level", "invoice", "--out", str(path)]
    )
    assert code == 0
    expected = invoice_features(load_ledger(folder), AS_OF)
    assert f"{len(expected):,} invoice rows written to {path}" in capsys.readouterr().out
    _assert_same(_read(path), expected)
