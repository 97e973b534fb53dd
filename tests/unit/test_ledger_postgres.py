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


def test_rows_pushed_into_a_postgres_ledger_are_kept_in_it_and_read_back(write_ledger_files):
    from datetime import date

    import pyarrow.compute as pc

    from riskmodel.ledger.load import push_rows
    from riskmodel.ledger.pushes import PushRefused, journal_version

    original = load_ledger(write_ledger_files())
    invoice = {
        "invoice_id": "I9",
        "customer_id": "C2",
        "issue_date": "2024-01-02",
        "due_date": "2024-03-02",
        "amount": 75,
    }
    with fresh_postgres_database() as url:
        write_tables_sql({n: getattr(original, n) for n in ("customers", "invoices", "payments")}, url)
        push_rows(load_ledger(url), {"invoices": [invoice]}, date(2024, 1, 31))
        with pytest.raises(PushRefused):
            push_rows(load_ledger(url), {"invoices": [{**invoice, "amount": 80}]}, date(2024, 1, 31))
        reloaded = load_ledger(url)
        version = journal_version(url)
    rows = reloaded.invoices.filter(pc.equal(reloaded.invoices["invoice_id"], "I9")).to_pylist()
    assert version == 1 and rows[0]["amount"] == 75.0 and rows[0]["customer_id"] == "C2"
