"""``riskmodel forecast``: the weekly file and summary on the sample ledger, and clear errors."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import date, timedelta

import pandas as pd
import pytest

from riskmodel.cli import EXIT_OK, EXIT_UNUSABLE, main
from tests.conftest import SAMPLE

pytestmark = pytest.mark.slow
AS_OF = "2025-09-30"


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["-q", "forecast", *args])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("suffix", "customer"), [(".csv", None), (".parquet", "C000008")], ids=["portfolio", "customer"]
)
def test_the_forecast_file_has_the_weeks_and_the_summary_adds_up(sample_models, tmp_path, suffix, customer):
    out = tmp_path / f"forecast{suffix}"
    extra = ["--customer", customer] if customer else []
    code, stdout, stderr = run_cli(
        str(SAMPLE),
        "--as-of",
        AS_OF,
        "--out",
        str(out),
        "--tracking-uri",
        sample_models,
        "--weeks",
        "8",
        *extra,
    )
    assert code == EXIT_OK, stderr
    frame = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert list(frame.columns) == ["week", "week_start", "week_end", "expected", "low", "high"]
    assert frame["week"].tolist() == list(range(1, 9))
    first = date.fromisoformat(AS_OF) + timedelta(days=1)
    assert pd.to_datetime(frame["week_start"]).dt.date.tolist() == [
        first + timedelta(days=7 * w) for w in range(8)
    ]
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["customer_id"] == customer and summary["as_of"] == AS_OF
    assert summary["expected_in_weeks"] == pytest.approx(frame["expected"].sum())
    assert summary["expected_in_weeks"] + summary["remaining"] == pytest.approx(
        summary["open_amount"], rel=1e-9
    )
    assert summary["n_invoices"] > 0 and summary["model_version"].startswith("late_payment:")


def test_without_a_late_payment_champion_it_says_so(tmp_path):
    code, _, stderr = run_cli(
        str(SAMPLE),
        "--as-of",
        AS_OF,
        "--out",
        str(tmp_path / "f.csv"),
        "--tracking-uri",
        f"sqlite:///{tmp_path / 'empty.db'}",
    )
    assert code == EXIT_UNUSABLE and "riskmodel-late-payment" in stderr and "riskmodel train" in stderr
    assert not (tmp_path / "f.csv").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--as-of", "2030-01-31"], "after the ledger's data end"),
        (["--as-of", "2001-01-31"], "before the ledger's first invoice"),
        (["--as-of", AS_OF, "--customer", "NO-SUCH"], "'NO-SUCH' is not in the ledger"),
        (["--as-of", AS_OF, "--weeks", "200"], "weeks must be from 1 to 104"),
    ],
    ids=["after-end", "before-start", "unknown-customer", "too-many-weeks"],
)
def test_requests_outside_the_ledger_are_refused(sample_models, write_ledger_files, tmp_path, args, says):
    ledger = write_ledger_files()  # a tiny ledger: 2023-02-01 to 2023-05-20
    if args[1] == AS_OF:
        args = ["--as-of", "2023-04-30", *args[2:]]
    code, _, stderr = run_cli(
        str(ledger), *args, "--out", str(tmp_path / "f.csv"), "--tracking-uri", sample_models
    )
    assert code == EXIT_UNUSABLE and says in stderr


def test_an_unsupported_output_suffix_fails_before_any_work(tmp_path):
    code, _, stderr = run_cli(str(SAMPLE), "--as-of", AS_OF, "--out", str(tmp_path / "f.xlsx"))
    assert code == EXIT_UNUSABLE and ".csv or .parquet" in stderr
