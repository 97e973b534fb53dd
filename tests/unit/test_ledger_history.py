"""The optional customer_history table: its row rules, truncation at as_of and round trips."""

from __future__ import annotations

import datetime as dt

import pytest

from riskmodel.features.asof import truncate_ledger
from riskmodel.ledger import load_ledger, write_ledger
from riskmodel.ledger.write import write_tables_sql

HISTORY_CSV = """customer_id,date,credit_limit,bureau_score
C1,2023-03-01,8000,
C1,2023-06-01,,610
C2,2023-04-01,2000,550
"""


def _reasons(ledger) -> dict[int, str]:
    rejects = ledger.report.rejected["customer_history"]
    return dict(zip(rejects["row"], rejects["reason"], strict=True))


def test_valid_history_is_accepted_typed_and_flagged(write_ledger_files):
    ledger = load_ledger(write_ledger_files(customer_history=HISTORY_CSV), strict=True)
    assert ledger.has_customer_history
    assert ledger.customer_history.num_rows == 3
    assert str(ledger.customer_history.schema.field("date").type) == "date32[day]"
    assert ledger.customer_history["credit_limit"].to_pylist() == [8000.0, None, 2000.0]
    assert ledger.customer_history["payment_terms_days"].null_count == 3  # absent column: all null


def test_a_ledger_without_history_has_an_empty_typed_table(write_ledger_files):
    ledger = load_ledger(write_ledger_files())
    assert not ledger.has_customer_history
    assert ledger.customer_history.num_rows == 0
    assert "bureau_score" in ledger.customer_history.column_names


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("C9,2023-05-01,100,", "customer_id 'C9' is not among the accepted customers"),
        ("C2,2023-01-15,100,", "date 2023-01-15 is before the customer's onboarding_date 2023-02-01"),
        ("C1,2023-07-01,-5,", "credit_limit '-5' must be at least 0"),
        ("C1,2023-07-01,abc,", "credit_limit 'abc' is not a number"),
        ("C1,07/01/2023,100,", "date '07/01/2023' is not a date in YYYY-MM-DD form"),
        ("C1,2023-07-01,,", "the row gives no value; fill at least one of credit_limit"),
    ],
)
def test_history_rule_rejects_the_row_with_its_reason(write_ledger_files, line, reason):
    ledger = load_ledger(write_ledger_files(customer_history=HISTORY_CSV + line + "\n"))
    reasons = _reasons(ledger)
    assert list(reasons) == [5], reasons
    assert reason in reasons[5]
    report = next(t for t in ledger.report.tables if t.table == "customer_history")
    assert (report.read, report.accepted, report.rejected) == (4, 3, 1)


def test_duplicate_customer_and_date_is_rejected_with_the_row_numbers(write_ledger_files):
    history = HISTORY_CSV + "C1,2023-03-01,8000,\nC2,2023-04-01,2500,550\n"
    reasons = _reasons(load_ledger(write_ledger_files(customer_history=history)))
    assert sorted(reasons) == [4, 5, 6]
    assert reasons[5] == "duplicate of row 2 (customer_id, date C1, 2023-03-01); remove the repeated row"
    assert reasons[4].startswith("customer_id, date C2, 2023-04-01 appears 2 times with different values")
    assert "first at row 4" in reasons[6]


def test_truncation_drops_rows_dated_after_as_of(write_ledger_files):
    ledger = load_ledger(write_ledger_files(customer_history=HISTORY_CSV))
    known = truncate_ledger(ledger, dt.date(2023, 5, 31))
    assert known.customer_history["date"].to_pylist() == [dt.date(2023, 3, 1), dt.date(2023, 4, 1)]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "sql"])
def test_history_round_trips_through_every_format(write_ledger_files, tmp_path, fmt):
    ledger = load_ledger(write_ledger_files(customer_history=HISTORY_CSV))
    if fmt == "sql":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        tables = {n: getattr(ledger, n) for n in ("customers", "invoices", "customer_history")}
        write_tables_sql(tables, url)
        again = load_ledger(url, strict=True)
    else:
        write_ledger(ledger, tmp_path / "copy", fmt=fmt)
        again = load_ledger(tmp_path / "copy", strict=True)
    assert again.has_customer_history
    assert again.customer_history.to_pylist() == ledger.customer_history.to_pylist()
