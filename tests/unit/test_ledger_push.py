"""Rows pushed into a ledger: checked whole, idempotent, journalled next to the ledger and read back by every load."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from riskmodel.ledger import load_ledger
from riskmodel.ledger.load import push_rows
from riskmodel.ledger.pushes import JOURNAL_FILE, PushRefused, journal_version, read_journal
from riskmodel.ledger.tables import Ledger

TODAY = date(2024, 1, 31)
NEW_INVOICE = {
    "invoice_id": "I9",
    "customer_id": "C1",
    "issue_date": "2024-01-02",
    "due_date": "2024-02-01",
    "amount": 90,
}


def _invoice(ledger: Ledger, invoice_id: str) -> dict:
    rows = ledger.invoices.filter(pc.equal(ledger.invoices["invoice_id"], invoice_id)).to_pylist()
    assert len(rows) == 1
    return rows[0]


def test_a_pushed_invoice_is_in_the_ledger_returned_and_in_every_later_load(write_ledger_files):
    folder = write_ledger_files()
    ledger = load_ledger(folder)
    pushed, outcome = push_rows(ledger, {"invoices": [NEW_INVOICE]}, TODAY)
    assert outcome.added["invoices"] == 1 and outcome.customers == frozenset({"C1"})
    assert _invoice(pushed, "I9")["amount"] == 90.0
    assert pushed.data_end == date(2024, 1, 2) and ledger.data_end == date(2023, 5, 20)
    reloaded = load_ledger(folder)  # a restart, or any other command on this ledger
    assert _invoice(reloaded, "I9")["due_date"] == date(2024, 2, 1)
    assert reloaded.invoices.num_rows == ledger.invoices.num_rows + 1
    assert (folder / JOURNAL_FILE).is_file()


def test_sending_the_same_rows_again_changes_nothing(write_ledger_files):
    folder = write_ledger_files()
    first, _ = push_rows(load_ledger(folder), {"invoices": [NEW_INVOICE]}, TODAY)
    again, outcome = push_rows(
        first, {"invoices": [NEW_INVOICE, {**NEW_INVOICE, "invoice_id": "I1"} | _held(first, "I1")]}, TODAY
    )
    assert again is first
    assert outcome.unchanged["invoices"] == 2 and not outcome.changed
    assert journal_version(folder) == 1


def _held(ledger: Ledger, invoice_id: str) -> dict:
    row = _invoice(ledger, invoice_id)
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items() if v is not None}


def test_a_held_invoice_takes_new_dates_and_keeps_the_ones_not_sent(write_ledger_files):
    folder = write_ledger_files()
    ledger = load_ledger(folder)
    held = _held(ledger, "I2")
    disputed, outcome = push_rows(ledger, {"invoices": [held | {"dispute_date": "2023-04-15"}]}, TODAY)
    assert outcome.updated["invoices"] == 1
    written_off, _ = push_rows(disputed, {"invoices": [held | {"written_off_date": "2023-12-31"}]}, TODAY)
    row = _invoice(written_off, "I2")
    assert row["dispute_date"] == date(2023, 4, 15) and row["written_off_date"] == date(2023, 12, 31)
    assert _invoice(load_ledger(folder), "I2") == row  # the journal replays both updates in order


def test_a_row_that_differs_from_the_held_one_is_a_conflict_naming_the_fields(write_ledger_files):
    folder = write_ledger_files()
    ledger = load_ledger(folder)
    with pytest.raises(PushRefused) as refused:
        push_rows(ledger, {"invoices": [_held(ledger, "I1") | {"amount": 999}]}, TODAY)
    assert refused.value.status == 409
    assert refused.value.problems[0]["column"] == "amount" and "999" in refused.value.problems[0]["reason"]
    assert not (folder / JOURNAL_FILE).exists()


@pytest.mark.parametrize(
    ("batch", "table", "row", "column"),
    [
        (
            {"invoices": [NEW_INVOICE, {**NEW_INVOICE, "invoice_id": "I10", "due_date": "2023-12-01"}]},
            "invoices",
            1,
            "due_date",
        ),
        ({"invoices": [{**NEW_INVOICE, "customer_id": "C404"}]}, "invoices", 0, "customer_id"),
        ({"invoices": [{**NEW_INVOICE, "amount": "ninety"}]}, "invoices", 0, "amount"),
        (
            {
                "payments": [
                    {"payment_id": "P9", "invoice_id": "I2", "payment_date": "2023-04-01", "amount": 300}
                ]
            },
            "payments",
            0,
            "amount",
        ),
        (
            {"invoices": [{**NEW_INVOICE, "issue_date": "2024-02-01", "due_date": "2024-03-01"}]},
            "invoices",
            0,
            "issue_date",
        ),  # after today
        ({"invoices": [{**NEW_INVOICE, "colour": "red"}]}, "invoices", 0, "colour"),
        ({"invoices": [NEW_INVOICE, NEW_INVOICE]}, "invoices", 1, "invoice_id"),
    ],
    ids=[
        "due-before-issue",
        "unknown-customer",
        "not-a-number",
        "overpayment",
        "future",
        "unknown-column",
        "repeated",
    ],
)
def test_a_batch_with_one_bad_row_is_refused_whole_and_nothing_is_written(
    write_ledger_files, batch, table, row, column
):
    folder = write_ledger_files()
    ledger = load_ledger(folder)
    good = {"customers": [{"customer_id": "C3", "onboarding_date": "2023-06-01"}]}
    with pytest.raises(PushRefused) as refused:
        push_rows(ledger, good | batch, TODAY)
    problem = refused.value.problems[0]
    assert (refused.value.status, problem["table"], problem["row"], problem["column"]) == (
        422,
        table,
        row,
        column,
    )
    assert not (folder / JOURNAL_FILE).exists()
    assert "C3" not in load_ledger(folder).customers["customer_id"].to_pylist()


def test_a_new_customer_and_its_invoice_and_payment_go_in_one_batch(write_ledger_files):
    folder = write_ledger_files()
    batch = {
        "customers": [{"customer_id": "C3", "onboarding_date": "2023-06-01", "credit_limit": 1000}],
        "invoices": [{**NEW_INVOICE, "customer_id": "C3", "invoice_id": "I30"}],
        "payments": [{"payment_id": "P30", "invoice_id": "I30", "payment_date": "2024-01-20", "amount": 90}],
        "events": [{"customer_id": "C3", "date": "2024-01-25", "type": "legal_action"}],
    }
    pushed, outcome = push_rows(load_ledger(folder), batch, TODAY)
    assert outcome.customers == frozenset({"C3"})
    assert _invoice(pushed, "I30")["settled_date"] == date(2024, 1, 20)  # settled from the pushed payment
    assert [c.table for c in read_journal(folder)] == ["customers", "invoices", "payments", "events"]
    reloaded = load_ledger(folder)
    assert reloaded.events.num_rows == pushed.events.num_rows == 1
    again, outcome = push_rows(reloaded, batch, TODAY)  # events have no key: an identical row is held already
    assert not outcome.changed and outcome.unchanged["events"] == 1


def test_pushes_into_a_parquet_ledger_and_a_database_ledger_are_read_back(write_ledger_files, tmp_path: Path):
    folder = write_ledger_files()
    ledger = load_ledger(folder)
    parquet = tmp_path / "parquet"
    parquet.mkdir()
    for name in ("customers", "invoices", "payments"):
        pq.write_table(
            getattr(ledger, name).drop_columns(["customer_id"])
            if name == "payments"
            else getattr(ledger, name),
            parquet / f"{name}.parquet",
        )
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    from riskmodel.ledger import write_tables_sql

    write_tables_sql({n: ledger.frame(n) for n in ("customers", "invoices")}, url)
    for source in (parquet, url):
        push_rows(load_ledger(source), {"invoices": [NEW_INVOICE]}, TODAY)
        assert _invoice(load_ledger(source), "I9")["amount"] == 90.0
    assert journal_version(url) == 1  # the journal is a table of the ledger database


@pytest.mark.parametrize("with_payments", [True, False], ids=["payments-table", "no-payments-table"])
def test_the_ledger_a_push_returns_equals_the_ledger_loaded_again(write_ledger_files, with_payments):
    """A push checks only the customers it touches and splices their rows in: the same tables as a full load."""
    folder = write_ledger_files(**({} if with_payments else {"payments": None}))
    ledger = load_ledger(folder)
    held = _held(ledger, "I2")
    batches = [
        {
            "customers": [{"customer_id": "C3", "onboarding_date": "2023-06-01"}],
            "invoices": [{**NEW_INVOICE, "customer_id": "C3"}],
        },
        {"invoices": [held | {"dispute_date": "2023-04-15", "settled_date": "2023-05-02"}]},
        {"events": [{"customer_id": "C2", "date": "2023-06-30", "type": "bankruptcy"}]},
    ]
    if with_payments:
        batches.append(
            {
                "payments": [
                    {"payment_id": "P9", "invoice_id": "I9", "payment_date": "2024-01-10", "amount": 90}
                ]
            }
        )
    for batch in batches:
        ledger, _ = push_rows(ledger, batch, TODAY)
    reloaded = load_ledger(folder)
    assert (ledger.has_payments, ledger.data_end) == (reloaded.has_payments, reloaded.data_end)
    for name, key in (
        ("customers", "customer_id"),
        ("invoices", "invoice_id"),
        ("payments", "payment_id"),
        ("events", "date"),
    ):
        pushed, loaded = getattr(ledger, name).sort_by(key), getattr(reloaded, name).sort_by(key)
        assert pushed.select(loaded.column_names).to_pylist() == loaded.to_pylist(), name


@pytest.mark.parametrize(
    ("batch", "table", "column"),
    [
        (
            {"events": [{"customer_id": "C404", "date": "2024-01-05", "type": "bankruptcy"}]},
            "events",
            "customer_id",
        ),
        (
            {
                "payments": [
                    {"payment_id": "P404", "invoice_id": "I404", "payment_date": "2024-01-05", "amount": 5}
                ]
            },
            "payments",
            "invoice_id",
        ),
    ],
    ids=["event-of-unknown-customer", "payment-of-unknown-invoice"],
)
def test_a_row_whose_parent_is_nowhere_is_refused_naming_it(write_ledger_files, batch, table, column):
    folder = write_ledger_files()
    with pytest.raises(PushRefused) as refused:
        push_rows(load_ledger(folder), batch, TODAY)
    assert (
        refused.value.status,
        refused.value.problems[0]["table"],
        refused.value.problems[0]["column"],
    ) == (422, table, column)
    assert not (folder / JOURNAL_FILE).exists()


def test_a_journal_row_that_no_longer_fits_the_source_stops_the_load_naming_it(write_ledger_files):
    from riskmodel.exceptions import LedgerError

    folder = write_ledger_files()
    push_rows(load_ledger(folder), {"invoices": [{**NEW_INVOICE, "customer_id": "C2"}]}, TODAY)
    write_ledger_files(customers="customer_id,onboarding_date\nC1,2023-01-01\n")  # C2 removed from the source
    with pytest.raises(LedgerError, match=r"journal entry 1\) no longer fits .*customer_id 'C2'"):
        load_ledger(folder)
