"""Chunk plans, progress lines and summary tables on small hand-made inputs."""

from __future__ import annotations

import io
import logging

import numpy as np
import pandas as pd
import pytest

from riskmodel.ledger import load_ledger
from riskmodel.rescore.engines import customer_batches
from riskmodel.rescore.portfolio import count_chunks, fingerprint, plan_chunks
from riskmodel.rescore.progress import Progress
from riskmodel.rescore.summary import limit_changes, rejected_customers


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


def test_progress_bar_shows_rate_and_time_left():
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(stream, clock=clock, width=10)
    progress.start(1000, done=200)  # a resumed run: 200 committed earlier do not count in the rate
    clock.now += 2.0
    progress.advance(400)
    progress.finish()
    assert stream.getvalue() == "\r[######....] 600/1,000 customers (60.0%)  200 rows/s  ETA 0:00:02\n"


def test_progress_without_a_terminal_logs_at_intervals(caplog):
    clock = FakeClock()
    progress = Progress(None, interval_s=5.0, clock=clock)
    with caplog.at_level(logging.INFO, logger="riskmodel.rescore.progress"):
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
