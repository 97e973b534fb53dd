"""The service keeps each customer's feature row and scoring inputs per date, and a push renews those of the customers it touched."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.features.customer import customer_features
from riskmodel.ledger import load_ledger
from riskmodel.policy import load_policy
from riskmodel.scoring import ModelBundle, PreparedCustomers, prepare_scored_customers
from riskmodel.service import scorer as scorer_module
from riskmodel.service.prepared import PreparedPortfolio
from riskmodel.service.scorer import RiskScorer
from riskmodel.store import ResultsStore
from tests.small_ledger import write_small_ledger

BUNDLE = ModelBundle(policy=load_policy())  # the policy's rules grade: no MLflow store needed


def _invoice(invoice_id: str, customer_id: str, issued: date, amount: float) -> dict[str, object]:
    """A pushed invoice row on 30-day terms."""
    return {
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "issue_date": issued.isoformat(),
        "due_date": (issued + timedelta(days=30)).isoformat(),
        "amount": amount,
    }


def _same_values(kept: pd.DataFrame, batch: pd.DataFrame) -> None:
    for name in batch.columns.drop("snapshot_id", errors="ignore"):
        a, b = kept[name].iloc[0], batch[name].iloc[0]
        if isinstance(b, float | np.floating):
            assert float(a) == pytest.approx(float(b), nan_ok=True), name
        else:
            assert str(a) == str(b), name


def test_a_push_renews_the_kept_features_of_the_customers_it_touched(tmp_path) -> None:
    results = ResultsStore(tmp_path / "results.db")
    scorer = RiskScorer(BUNDLE, load_ledger(write_small_ledger(tmp_path / "ledger")), results)
    try:
        end = scorer.data_end
        touched, other = sorted(scorer.onboarded)[:2]
        for customer in (touched, other):
            scorer.score(customer, None, "en")  # their rows for the data end are kept now
        before = scorer.store.frame(touched, end)
        scorer.push({"invoices": [_invoice("PUSH-1", touched, end, 12_345.0)]})
        assert scorer.data_end == end
        for customer in (touched, other):
            batch = customer_features(scorer.ledger, end, active_only=False, customer_ids=[customer])
            _same_values(scorer.store.frame(customer, end), batch)
        after = scorer.store.frame(touched, end)
        assert after["open_balance"].iloc[0] == pytest.approx(before["open_balance"].iloc[0] + 12_345.0)
        fresh = RiskScorer(BUNDLE, scorer.ledger, ResultsStore(tmp_path / "fresh.db"))
        for customer in (touched, other):  # default state, open invoices, grade: as a service started now
            kept, new = scorer.score(customer, None, "en"), fresh.score(customer, None, "en")
            for field in ("pd_12m", "grade", "in_default", "recommended_limit", "reasons", "open_invoices"):
                assert kept[field] == new[field], (customer, field)
        assert "PUSH-1" in [i["invoice_id"] for i in scorer.score(touched, None, "en")["open_invoices"]]
        fresh.results.close()
    finally:
        results.close()


def _wait_for_today(scorer: RiskScorer) -> PreparedPortfolio:
    deadline = time.monotonic() + 120
    while (today := scorer.today) is None or today.as_of != scorer.data_end:
        assert time.monotonic() < deadline, "the data end's scoring inputs were never ready"
        time.sleep(0.05)
    return today


def _same_prepared(held: PreparedCustomers, alone: PreparedCustomers) -> None:
    for part in ("features", "default_state", "invoices"):
        pd.testing.assert_frame_equal(getattr(held, part), getattr(alone, part), check_dtype=False)


def test_the_data_ends_inputs_prepared_at_once_equal_each_customers_own(tmp_path) -> None:
    results = ResultsStore(tmp_path / "results.db")
    scorer = RiskScorer(
        BUNDLE, load_ledger(write_small_ledger(tmp_path / "ledger")), results, prepare_today=True
    )
    try:
        today = _wait_for_today(scorer)
        end = scorer.data_end
        customers = sorted(scorer.onboarded)
        assert sorted(today.rows) == [c for c in customers if scorer.onboarded[c] <= end]

        def alone(customer: str) -> PreparedCustomers:
            ledger = scorer.store.customer_ledger(customer)
            return prepare_scored_customers(BUNDLE, ledger, end, scorer.store.compute_frame(customer, end))

        for customer in today.rows:
            _same_prepared(today.customer(customer), alone(customer))

        touched = customers[0]
        scorer.push(
            {"invoices": [_invoice("PUSH-2", touched, end, 999.0)]}
        )  # same data end: the touched customer's rows are renewed in the background
        assert "PUSH-2" in [i["invoice_id"] for i in scorer.score(touched, None, "en")["open_invoices"]]
        deadline = time.monotonic() + 60
        while (renewed := scorer.today.customer(touched)) is None:
            assert time.monotonic() < deadline, "the touched customer's inputs were never renewed"
            time.sleep(0.05)
        assert scorer.today.as_of == end
        assert "PUSH-2" in renewed.invoices["invoice_id"].tolist()
        _same_prepared(renewed, alone(touched))
        for customer in customers[1:4]:  # the others' rows are still the batch's
            _same_prepared(scorer.today.customer(customer), alone(customer))

        later = end + timedelta(days=1)
        scorer.push(
            {"invoices": [_invoice("PUSH-3", touched, later, 999.0)]}
        )  # the data end moves: worked out again for the new date
        assert _wait_for_today(scorer).as_of == later
        assert "PUSH-3" in scorer.today.customer(touched).invoices["invoice_id"].tolist()
    finally:
        scorer.close()
        results.close()


def _not_worked_out_again(*args, **kwargs):
    raise AssertionError("this answer should have been read back, not worked out again")


def test_answers_worked_out_ahead_equal_answers_worked_out_alone(tmp_path, monkeypatch) -> None:
    folder = write_small_ledger(tmp_path / "ledger")
    ahead = RiskScorer(BUNDLE, load_ledger(folder), ResultsStore(tmp_path / "ahead.db"))
    alone = RiskScorer(BUNDLE, load_ledger(folder), ResultsStore(tmp_path / "alone.db"))
    ahead.prepare_today()
    customers = sorted(ahead.today.rows)
    expected = {customer: alone.score(customer, None, "en") for customer in customers}
    monkeypatch.setattr("riskmodel.service.scorer.score_prepared", _not_worked_out_again)
    assert any(body["alerts"] for body in expected.values())  # alert memory is part of what is kept
    for customer in customers:
        assert ahead.score(customer, None, "en") == expected[customer]

    touched, other = customers[:2]  # a push that leaves the medians: the others' answers stay
    end = ahead.data_end
    ahead.push({"invoices": [_invoice("PUSH-4", touched, end, 10.0)]})
    assert ahead.score(other, None, "en") == expected[other]
    monkeypatch.undo()
    alerted = next(c for c in customers[2:] if expected[c]["alerts"])  # its memory has changed since
    again = ahead.score(alerted, None, "en")
    assert {a["status"] for a in again["alerts"]} == {"open"}
    assert again == alone.score(alerted, None, "en")
    assert "PUSH-4" in [i["invoice_id"] for i in ahead.score(touched, None, "en")["open_invoices"]]
    fresh = RiskScorer(BUNDLE, ahead.ledger, ResultsStore(tmp_path / "fresh.db"))
    assert fresh.score(other, None, "en") == expected[other]
    for scorer in (ahead, alone, fresh):
        scorer.results.close()


def test_an_answer_that_changed_the_memory_has_its_next_answer_worked_out_ahead(
    tmp_path, monkeypatch
) -> None:
    folder = write_small_ledger(tmp_path / "ledger")
    served = RiskScorer(BUNDLE, load_ledger(folder), ResultsStore(tmp_path / "served.db"), prepare_today=True)
    alone = RiskScorer(BUNDLE, load_ledger(folder), ResultsStore(tmp_path / "alone.db"))
    try:
        assert served.ready.wait(120), "the data end's answers were never worked out"
        first = {customer: served.score(customer, None, "en") for customer in sorted(served.today.rows)}
        alerted = [customer for customer, body in first.items() if body["alerts"]]
        assert alerted  # their first answers opened alerts: the memory their next answers read changed
        expected = {}
        for customer in alerted:
            alone.score(customer, None, "en")
            expected[customer] = alone.score(customer, None, "en")
        request_thread, worked_out = threading.get_ident(), scorer_module.score_prepared

        def in_the_background_only(*args, **kwargs):
            if threading.get_ident() == request_thread:
                raise AssertionError("this answer should have been worked out ahead")
            return worked_out(*args, **kwargs)

        monkeypatch.setattr(scorer_module, "score_prepared", in_the_background_only)
        deadline = time.monotonic() + 60
        for customer in alerted:
            while True:
                try:
                    again = served.score(customer, None, "en")
                    break
                except AssertionError:
                    assert time.monotonic() < deadline, f"{customer}'s next answer was never worked out ahead"
                    time.sleep(0.05)
            assert again == expected[customer] and {a["status"] for a in again["alerts"]} == {"open"}
    finally:
        served.close()
        for scorer in (served, alone):
            scorer.results.close()


def _two_workers(tmp_path: Path) -> tuple[Path, RiskScorer, RiskScorer]:
    """A small ledger folder and two scorers on it sharing one results database, as a service's two workers."""
    folder = write_small_ledger(tmp_path / "ledger")
    first, second = (
        RiskScorer(BUNDLE, load_ledger(folder), ResultsStore(tmp_path / "shared.db")) for _ in range(2)
    )
    return folder, first, second


def test_a_worker_finds_the_next_answer_after_another_workers_answer_changed_the_memory(
    tmp_path, monkeypatch
) -> None:
    """Two workers share the results database: an answer that opens alerts on one leaves a memory the other foresaw."""
    folder, first, second = _two_workers(tmp_path)
    alone = RiskScorer(BUNDLE, load_ledger(folder), ResultsStore(tmp_path / "alone.db"))
    for scorer in (first, second):
        scorer.prepare_today()
    customers = sorted(first.today.rows)
    expected = {}
    for customer in customers:
        alone.score(customer, None, "en")
        expected[customer] = alone.score(customer, None, "en")  # under the memory the first answer left
    monkeypatch.setattr("riskmodel.service.scorer.score_prepared", _not_worked_out_again)
    opened = [customer for customer in customers if first.score(customer, None, "en")["alerts"]]
    assert opened  # these first answers changed the memory
    for customer in customers:
        again = second.score(customer, None, "en")
        assert again == expected[customer] and {a["status"] for a in again["alerts"]} <= {"open"}
        assert first.score(customer, None, "en") == expected[customer]
    for scorer in (first, second, alone):
        scorer.results.close()


def test_a_worker_applies_rows_another_worker_pushed_without_reading_the_ledger_again(
    tmp_path, monkeypatch
) -> None:
    _, pushing, other = _two_workers(tmp_path)
    end = pushing.data_end
    touched, untouched = sorted(pushing.onboarded)[:2]
    before = other.score(untouched, None, "en")
    pushing.push({"invoices": [_invoice("PUSH-5", touched, end, 4_321.0)]})
    pushing.push({"invoices": [_invoice("PUSH-6", touched, end + timedelta(days=1), 99.0)]})

    def no_full_read(*args, **kwargs):
        raise AssertionError("the journal's new entries should have been applied, not the ledger read again")

    monkeypatch.setattr(scorer_module, "load_ledger", no_full_read)
    other.catch_up()
    assert other.data_end == end + timedelta(days=1) and other.pushed_rows == pushing.pushed_rows == 2
    for name in ("customers", "invoices", "payments", "events"):
        mine, theirs = getattr(other.ledger, name), getattr(pushing.ledger, name)
        assert mine.to_pylist() == theirs.select(mine.column_names).to_pylist(), name
    assert {"PUSH-5", "PUSH-6"} <= {
        i["invoice_id"] for i in other.score(touched, None, "en")["open_invoices"]
    }
    assert other.score(untouched, end, "en")["grade"] == before["grade"]
    for scorer in (pushing, other):
        scorer.results.close()
