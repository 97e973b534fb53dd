"""Input that cannot be used at all raises LedgerError with a message that says what to fix."""

from __future__ import annotations

import pytest

from riskmodel.exceptions import LedgerError
from riskmodel.ledger import load_ledger
from tests.conftest import CUSTOMERS_CSV, INVOICES_CSV


def test_missing_folder(tmp_path):
    with pytest.raises(LedgerError, match="ledger folder .*nowhere does not exist"):
        load_ledger(tmp_path / "nowhere")


def test_missing_required_file(write_ledger_files):
    with pytest.raises(
        LedgerError, match="has no invoices.csv or invoices.parquet; the invoices table is required"
    ):
        load_ledger(write_ledger_files(invoices=None))


def test_both_csv_and_parquet_of_one_table(write_ledger_files):
    folder = write_ledger_files()
    (folder / "customers.parquet").write_bytes(b"PAR1")
    with pytest.raises(LedgerError, match="both customers.csv and customers.parquet; keep one"):
        load_ledger(folder)


def test_empty_file(write_ledger_files):
    with pytest.raises(LedgerError, match="invoices.csv is empty; it needs a header line"):
        load_ledger(write_ledger_files(invoices=""))


def test_header_without_rows_in_required_table(write_ledger_files):
    with pytest.raises(LedgerError, match="customers.csv has a header but no rows"):
        load_ledger(write_ledger_files(customers="customer_id,onboarding_date\n"))


def test_missing_required_column(write_ledger_files):
    text = INVOICES_CSV.replace("due_date", "due")
    with pytest.raises(
        LedgerError, match="invoices.csv is missing required column\\(s\\) due_date; found .*due,"
    ):
        load_ledger(write_ledger_files(invoices=text))


def test_csv_without_header_line(write_ledger_files):
    headless = "".join(CUSTOMERS_CSV.splitlines(keepends=True)[1:])
    with pytest.raises(
        LedgerError,
        match="customers.csv: the first line 'C1,2023-01-01,Acme,10000,30' looks like data, not a header",
    ):
        load_ledger(write_ledger_files(customers=headless))


def test_wrong_encoding(write_ledger_files):
    folder = write_ledger_files()
    text = CUSTOMERS_CSV.replace("Acme", "Müller GmbH")
    (folder / "customers.csv").write_bytes(text.encode("latin-1"))
    with pytest.raises(LedgerError, match="customers.csv is not UTF-8 text; save it as UTF-8"):
        load_ledger(folder)


def test_utf8_with_byte_order_mark_is_fine(write_ledger_files):
    folder = write_ledger_files()
    (folder / "customers.csv").write_bytes(CUSTOMERS_CSV.replace("Acme", "Müller").encode("utf-8-sig"))
    ledger = load_ledger(folder)
    assert ledger.customers["name"].to_pylist()[0] == "Müller"


def test_unreadable_parquet(write_ledger_files):
    folder = write_ledger_files(customers=None)
    (folder / "customers.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(LedgerError, match="customers.parquet is not a readable Parquet file"):
        load_ledger(folder)


def test_strict_makes_any_rejection_fatal(write_ledger_files):
    folder = write_ledger_files(invoices=INVOICES_CSV + "I9,C1,2023-02-01,2023-01-03,100,,,\n")
    with pytest.raises(
        LedgerError, match="1 row\\(s\\) rejected and --strict is set; first: invoices.csv row 5: due_date"
    ):
        load_ledger(folder, strict=True)


def test_unknown_sql_database_table(tmp_path):
    with pytest.raises(LedgerError, match="has no table 'customers'"):
        load_ledger(f"sqlite:///{tmp_path / 'empty.db'}")


def test_unknown_database_driver_is_a_clear_error():
    with pytest.raises(LedgerError, match="cannot open the database URL"):
        load_ledger("nosuchdb://host/ledger")


def test_a_ledger_without_dated_rows_has_no_data_end(write_ledger_files):
    from datetime import date

    from riskmodel.features.asof import truncate_ledger

    empty = truncate_ledger(load_ledger(write_ledger_files()), date(1990, 1, 1))
    with pytest.raises(
        LedgerError, match=r"ledger at .* has no dated rows; there is nothing to train on; load"
    ):
        empty.require_data_end("train on")
