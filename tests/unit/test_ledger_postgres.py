"""The same ledger round-trips through a real PostgreSQL server."""

from __future__ import annotations

import pytest

from riskmodel.ledger import load_ledger, write_tables_sql
from tests.conftest import INVOICES_CSV
from tests.integration_helpers import fresh_postgres_database

pytestmark = pytest.mark.integration


def test_postgres_round_trip_equals_csv(write_ledger_files):
    original = load_ledger(write_ledger_files())
    with fresh_postgres_database() as url:
        write_tables_sql(
            {n: getattr(original, n) for n in ("customers", "invoices", "events")}
            | {"payments": original.payments},
            url,
        )
        from_pg = load_ledger(url)
    assert from_pg.report.is_clean
    for name in ("customers", "invoices", "payments"):
        a, b = original.frame(name), from_pg.frame(name)
        assert a.astype(str).equals(b[a.columns].astype(str)), name


def test_postgres_bad_rows_are_rejected_with_row_numbers(write_ledger_files):
    bad = load_ledger(write_ledger_files(invoices=INVOICES_CSV))
    with fresh_postgres_database() as url:
        invoices = bad.frame("invoices")
        invoices.loc[1, "amount"] = -5.0
        write_tables_sql({"customers": bad.customers, "invoices": invoices}, url)
        ledger = load_ledger(url)
    reject = ledger.report.rejected["invoices"].iloc[0]
    assert (reject["file"], reject["row"], reject["column"]) == ("invoices table", 2, "amount")
    assert "must be greater than 0" in reject["reason"]
