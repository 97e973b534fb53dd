"""Chunk plans, progress lines and summary tables on small hand-made inputs."""

from __future__ import annotations

import io
import logging
from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from riskmodel.ledger import load_ledger
from riskmodel.policy import load_policy
from riskmodel.portfolio import migration_matrix
from riskmodel.progress import CountProgress, terminal_progress
from riskmodel.rescore.chunks import Portfolio, count_chunks, fingerprint, plan_chunks
from riskmodel.rescore.engines import customer_batches
from riskmodel.rescore.summary import (
    RescoreSummary,
    format_summary,
    limit_changes,
    portfolio_drift,
    rejected_customers,
)
from riskmodel.scoring import ModelBundle
from riskmodel.validation.drift import DriftMonitor


@pytest.mark.parametrize(("n", "k"), [(0, 1), (1, 1), (10, 3), (834, 84), (1000, 7)], ids=str)
def test_chunks_cover_every_row_once_in_order(n, k):
    chunks = plan_chunks(n, k)
    assert [c.number for c in chunks] == list(range(k))
    covered = np.concatenate([np.arange(c.start, c.stop) for c in chunks])
    np.testing.assert_array_equal(covered, np.arange(n))
    assert max(c.size for c in chunks) - min(c.size for c in chunks) <= 1


def test_chunk_count_respects_the_size():
    assert (count_chunks(0, 5), count_chunks(10, 5), count_chunks(11, 5)) == (1, 2, 3)
    with pytest.raises(ValueError, match="chunk_size must be at least 1; got 0"):
        count_chunks(10, 0)


def test_fingerprint_tells_portfolios_apart():
    ids = pd.Series(["C1", "C2", "C3"])
    assert fingerprint(ids) == fingerprint(ids.copy())
    assert fingerprint(ids) != fingerprint(pd.Series(["C1", "C2"]))


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_on_a_terminal_draws_a_rich_bar_with_counts():
    stream = io.StringIO()
    display = terminal_progress(Console(file=stream, force_terminal=True, width=120))
    progress = CountProgress(display)
    progress.start(1000, done=200)  # a resumed run starts at 200
    progress.advance(400)
    progress.finish()
    assert "600/1,000 customers" in stream.getvalue() and "60.0%" in stream.getvalue()


def test_no_terminal_means_no_display():
    assert terminal_progress(Console(file=io.StringIO(), force_terminal=False)) is None


def test_progress_line_shows_rate_and_time_left():
    clock = FakeClock()
    progress = CountProgress(None, clock=clock)
    progress.start(1000, done=200)  # a resumed run: 200 committed earlier do not count in the rate
    clock.now += 2.0
    progress.done += 400
    assert progress.line(clock.now) == "600/1,000 customers (60.0%)  200 rows/s  ETA 0:00:02"


def test_progress_without_a_terminal_logs_at_intervals(caplog):
    clock = FakeClock()
    progress = CountProgress(None, interval_s=5.0, clock=clock)
    with caplog.at_level(logging.INFO, logger="riskmodel.progress"):
        progress.start(30)
        for _ in range(3):
            clock.now += 1.0
            progress.advance(5)  # within the interval: silent
        clock.now += 5.0
        progress.advance(5)
        progress.advance(10)  # the last chunk always reports
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "scoring 30 customers (0 already committed)"
    assert [line.split(" customers")[0][-5:] for line in lines[1:]] == ["20/30", "30/30"]


def test_limit_changes_compare_recommended_with_current():
    current = pd.DataFrame(
        {
            "current_limit": [100.0, 100.0, 100.0, np.nan, 0.0],
            "recommended_limit": [150.0, 50.0, 100.0, 80.0, 10.0],
        }
    )
    assert limit_changes(current) == {"up": 1, "down": 1, "unchanged": 1, "new": 2}


def test_rejected_rows_are_traced_to_their_customers(write_ledger_files):
    folder = write_ledger_files(
        customers="customer_id,onboarding_date,credit_limit\nC1,2023-01-01,10000\nC2,yesterday,5000\n",
        invoices="invoice_id,customer_id,issue_date,due_date,amount,settled_date\n"
        "I1,C1,2023-02-01,2023-03-03,100,\nI2,C1,2023-03-01,2023-02-01,250,\nI3,C2,2023-03-01,2023-04-30,400,\n",
        payments="payment_id,invoice_id,payment_date,amount\nP1,I1,2023-03-01,100\nP3,I3,2023-05-01,400\nP9,I9,2023-05-01,1\n",
    )
    ledger = load_ledger(folder)
    customers, n_rows, n_unresolved = rejected_customers(ledger, pd.Series(["C1"]))
    assert n_rows == ledger.report.n_rejected == 5
    assert n_unresolved == 1  # P9 names an invoice nobody has
    by_id = customers.set_index("customer_id")
    assert by_id.loc["C1", "scored"] and by_id.loc["C1", "n_rows"] == 1
    assert not by_id.loc["C2", "scored"]
    assert (by_id.loc["C2", "n_rows"], by_id.loc["C2", "tables"]) == (3, "customers,invoices,payments")
    assert by_id.loc["C2", "first_problem"].startswith("customers.csv row")


@pytest.mark.parametrize("size", [1, 3, 4, 100], ids=str)
def test_invoice_batches_keep_customers_whole(size):
    invoices = pd.DataFrame({"customer_id": list("AAABBCDDDD"), "invoice_id": [f"I{i}" for i in range(10)]})
    batches = customer_batches(invoices, size)
    assert sorted(pd.concat(batches)["invoice_id"]) == sorted(invoices["invoice_id"])
    owners = [set(batch["customer_id"]) for batch in batches]
    assert all(a.isdisjoint(b) for i, a in enumerate(owners) for b in owners[i + 1 :])
    assert (
        len(batches) == {1: 4, 3: 3, 4: 2, 100: 1}[size]
    )  # a batch starts where the rows before reach a multiple of size


def _drift_of(days_late: np.ndarray, pd_12m: np.ndarray, in_default: int = 0) -> pd.DataFrame:
    """Drift of a hand-made portfolio against a reference of ``days_late`` 0..19 and ``pd_12m`` 0.01..0.2."""
    reference = pd.DataFrame({"pd_12m": np.linspace(0.01, 0.2, 200), "days_late": np.arange(200) % 20})
    model = SimpleNamespace(drift_monitor=DriftMonitor(["pd_12m", "days_late"]).fit(reference))
    bundle = ModelBundle(policy=load_policy(), default=model)
    ids = [f"C{i:03d}" for i in range(len(days_late) + in_default)]
    features = pd.DataFrame({"customer_id": ids, "days_late": np.r_[days_late, np.full(in_default, 99.0)]})
    in_default_rows = np.arange(len(ids)) >= len(days_late)
    defaulted = pd.DataFrame(
        {"in_default": in_default_rows, "default_date": pd.Series(pd.NaT, index=range(len(ids)))}
    )
    defaulted.loc[in_default_rows, "default_date"] = pd.Timestamp("2025-11-30")
    portfolio = Portfolio(date(2025, 12, 31), features, defaulted, pd.DataFrame(), pd.Series(dtype=float))
    current = pd.DataFrame({"customer_id": ids, "pd_12m": np.r_[pd_12m, np.ones(in_default)]})
    return portfolio_drift(bundle, current, portfolio).set_index("feature")


def test_a_shifted_portfolio_drifts_more_than_one_like_the_training_slice():
    like = _drift_of(np.arange(100.0) % 20, np.linspace(0.01, 0.2, 100), in_default=10)
    shifted = _drift_of(np.arange(100.0) % 20 + 15, np.linspace(0.1, 0.4, 100))
    assert like.loc["pd_12m", "psi"] < 0.01 and like.loc["days_late", "psi"] < 0.01  # in-default left out
    assert like.loc["pd_12m", "n_current"] == 100
    assert shifted.loc["pd_12m", "psi"] > like.loc["pd_12m", "psi"] + 0.25
    assert shifted.loc["days_late", "psi"] > like.loc["days_late", "psi"] + 0.25
    assert set(shifted["status"]) == {"severe"}


def test_summary_text_shows_the_psi_of_scores_and_features():
    drift = _drift_of(np.arange(100.0) % 20 + 15, np.linspace(0.01, 0.2, 100)).reset_index()
    scores = pd.DataFrame({"customer_id": ["A"], "grade": [3]})
    summary = RescoreSummary(
        run={"run_id": "r1", "as_of": date(2025, 12, 31), "model_version": "default:1",
             "policy_version": "p1", "engine": "local"},
        status="finished", n_scored=1, previous_as_of=None,
        grade_migration=migration_matrix(scores.iloc[:0], scores), new_alerts={}, closed_alerts={},
        limit_changes={}, rejected=pd.DataFrame(columns=["customer_id", "scored"]),
        drift=drift, drift_thresholds=load_policy().drift,
    )  # fmt: skip
    text = format_summary(summary)
    assert "drift vs the default model's training slice (PSI; warning at 0.1, severe at 0.25):" in text
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.startswith("  ")}
    assert lines["pd_12m"][0] == f"{drift.set_index('feature').loc['pd_12m', 'psi']:.3f}"
    assert lines["days_late"][1] == "severe"
    assert summary.to_dict()["drift_psi"]["days_late"] == round(drift.loc[0, "psi"], 4)
    no_reference = RescoreSummary(**{**summary.__dict__, "drift": None})
    assert "carries no training reference; retrain" in format_summary(no_reference)
