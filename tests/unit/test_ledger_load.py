"""Loading: typing, settlement from payments, counts that reconcile, and format round trips."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel.ledger import load_ledger, write_ledger, write_tables_sql
from tests.conftest import INVOICES_CSV


def test_columns_are_typed_and_missing_optional_columns_are_null(write_ledger_files):
    ledger = load_ledger(write_ledger_files())
    assert ledger.invoices.schema.field("issue_date").type == pa.date32()
    assert ledger.invoices.schema.field("amount").type == pa.float64()
    assert ledger.customers.schema.field("payment_terms_days").type == pa.int64()
    assert ledger.customers["bureau_score"].null_count == ledger.customers.num_rows


def test_unknown_extra_columns_are_kept(write_ledger_files):
    text = INVOICES_CSV.replace("written_off_date\n", "written_off_date,po_number\n", 1).replace(
        ",,\n", ",,PO-1\n"
    )
    ledger = load_ledger(write_ledger_files(invoices=text))
    assert "po_number" in ledger.invoices.column_names


def test_header_names_are_trimmed_and_case_insensitive(write_ledger_files):
    text = INVOICES_CSV.replace("invoice_id,customer_id", " Invoice_ID ,CUSTOMER_ID", 1)
    ledger = load_ledger(write_ledger_files(invoices=text))
    assert ledger.invoices.num_rows == 3


def test_settlement_comes_from_payments_when_present(write_ledger_files):
    # I3: 150 on 05-01 then 250 on 05-20 -> settled 05-20; I2 has no payments and no settled_date -> open.
    invoices = INVOICES_CSV.replace("400,2023-05-20", "400,")
    ledger = load_ledger(write_ledger_files(invoices=invoices))
    settled = dict(
        zip(
            ledger.invoices["invoice_id"].to_pylist(),
            ledger.invoices["settled_date"].to_pylist(),
            strict=True,
        )
    )
    assert settled == {"I1": dt.date(2023, 3, 1), "I2": None, "I3": dt.date(2023, 5, 20)}
    assert ledger.has_payments


def test_partial_payments_leave_invoice_open(write_ledger_files):
    payments = "payment_id,invoice_id,payment_date,amount\nP1,I3,2023-05-01,150\n"
    ledger = load_ledger(write_ledger_files(payments=payments))
    i3 = ledger.frame("invoices").set_index("invoice_id").loc["I3"]
    assert i3["settled_date"] is None or str(i3["settled_date"]) == "NaT"


def test_without_payments_table_settled_invoices_get_one_full_payment(write_ledger_files):
    ledger = load_ledger(write_ledger_files(payments=None))
    assert not ledger.has_payments
    payments = ledger.frame("payments").sort_values("invoice_id")
    assert payments["invoice_id"].tolist() == ["I1", "I3"]
    assert payments["amount"].tolist() == [100.0, 400.0]


def _same_tables(left, right):
    for name in ("customers", "invoices", "payments", "events"):
        a, b = left.frame(name), right.frame(name)
        cols = [c for c in a.columns if c in b.columns]
        assert a[cols].astype(str).equals(b[cols].astype(str)), name


def test_round_trip_csv_parquet_sqlite(write_ledger_files, tmp_path):
    original = load_ledger(write_ledger_files())
    write_ledger(original, tmp_path / "pq", fmt="parquet")
    from_parquet = load_ledger(tmp_path / "pq")
    _same_tables(original, from_parquet)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    write_tables_sql(
        {n: getattr(from_parquet, n) for n in ("customers", "invoices", "payments", "events")}, url
    )
    from_sql = load_ledger(url)
    _same_tables(original, from_sql)
    assert from_sql.report.is_clean


def test_sqlite_text_dates_are_validated_like_csv(tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'bad.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.exec_driver_sql("CREATE TABLE customers (customer_id TEXT, onboarding_date TEXT)")
        con.exec_driver_sql("INSERT INTO customers VALUES ('C1', '2023-01-01'), ('C2', '01.02.2023')")
        con.exec_driver_sql(
            "CREATE TABLE invoices (invoice_id TEXT, customer_id TEXT, issue_date TEXT, due_date TEXT, amount REAL)"
        )
        con.exec_driver_sql("INSERT INTO invoices VALUES ('I1', 'C1', '2023-02-01', '2023-03-01', 10.0)")
    engine.dispose()
    ledger = load_ledger(url)
    reject = ledger.report.rejected["customers"].iloc[0]
    assert (reject["file"], reject["row"]) == ("customers table", 2)
    assert "onboarding_date '01.02.2023' is not a date in YYYY-MM-DD form" in reject["reason"]


BAD_CELLS = {
    "amount": ["-1", "abc", "0", ""],
    "issue_date": ["2023-02-30", "yesterday", ""],
    "customer_id": ["C404", ""],
    "due_date": ["2000-01-01", "x"],
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n_rows=st.integers(min_value=1, max_value=40),
    corruptions=st.dictionaries(
        st.integers(min_value=0, max_value=39), st.sampled_from(sorted(BAD_CELLS)), max_size=15
    ),
    choice=st.integers(min_value=0, max_value=3),
)
def test_counts_reconcile_and_every_corrupted_row_is_rejected(
    write_ledger_files, n_rows, corruptions, choice
):
    lines = [INVOICES_CSV.splitlines()[0]]
    corrupted_rows = set()
    for i in range(n_rows):
        cells = {
            "invoice_id": f"X{i}",
            "customer_id": "C1",
            "issue_date": "2023-02-01",
            "due_date": "2023-03-01",
            "amount": "10",
        }
        if i in corruptions:
            column = corruptions[i]
            options = BAD_CELLS[column]
            cells[column] = options[choice % len(options)]
            corrupted_rows.add(i + 2)
        lines.append(
            ",".join(
                [
                    cells["invoice_id"],
                    cells["customer_id"],
                    cells["issue_date"],
                    cells["due_date"],
                    cells["amount"],
                    "",
                    "",
                    "",
                ]
            )
        )
    ledger = load_ledger(write_ledger_files(invoices="\n".join(lines) + "\n", payments=None))
    report = {t.table: t for t in ledger.report.tables}["invoices"]
    assert report.read == n_rows == report.accepted + report.rejected
    assert set(ledger.report.rejected["invoices"]["row"]) == corrupted_rows


_PAYMENT = st.tuples(st.integers(0, 5), st.integers(0, 40), st.sampled_from([10.0, 25.0, 33.33, 50.0, 100.0]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amounts=st.lists(st.sampled_from([50.0, 100.0, 99.999]), min_size=6, max_size=6),
    given_settled=st.lists(st.booleans(), min_size=6, max_size=6),
    payments=st.lists(_PAYMENT, max_size=25),
)
def test_settlement_is_the_first_day_the_running_total_reaches_the_amount(amounts, given_settled, payments):
    """Checked against the rule written out plainly: day by day, with overpayments rejected first."""
    from riskmodel.ledger import ledger_from_frames

    start = dt.date(2024, 1, 1)
    invoices = pa.table(
        {
            "invoice_id": [f"I{n}" for n in range(6)],
            "customer_id": ["C1", "C2"] * 3,
            "issue_date": [start] * 6,
            "due_date": [start + dt.timedelta(days=30)] * 6,
            "amount": amounts,
            "settled_date": [start + dt.timedelta(days=9) if s else None for s in given_settled],
        }
    )
    table = pa.table(
        {
            "payment_id": [f"P{n}" for n in range(len(payments))],
            "invoice_id": [f"I{i}" for i, _, _ in payments],
            "payment_date": [start + dt.timedelta(days=d) for _, d, _ in payments],
            "amount": [a for _, _, a in payments],
        }
    )
    customers = pa.table({"customer_id": ["C1", "C2"], "onboarding_date": [start, start]})
    ledger = ledger_from_frames({"customers": customers, "invoices": invoices, "payments": table})

    expected = {}
    for n in range(6):
        # in date then row order, every payment from the one that takes the total above the amount is rejected
        mine = sorted((d, row, a) for row, (i, d, a) in enumerate(payments) if i == n)
        paid, kept = 0.0, []
        for d, _, a in mine:
            paid += a
            if paid <= amounts[n] + 0.005:
                kept.append((d, a))
        settled = None
        if not kept:
            settled = invoices["settled_date"][n].as_py()
        else:
            running = 0.0
            for d in sorted({d for d, _ in kept}):
                running += sum(a for day, a in kept if day == d)
                if running >= amounts[n] - 0.005:
                    settled = start + dt.timedelta(days=d)
                    break
        expected[f"I{n}"] = settled
    got = dict(
        zip(
            ledger.invoices["invoice_id"].to_pylist(),
            ledger.invoices["settled_date"].to_pylist(),
            strict=True,
        )
    )
    assert got == expected
    owners = zip(
        ledger.payments["invoice_id"].to_pylist(), ledger.payments["customer_id"].to_pylist(), strict=True
    )
    assert all(customer == ("C1", "C2")[int(invoice[1:]) % 2] for invoice, customer in owners)


def test_invoices_before_1970_settle_like_any_other(write_ledger_files):
    """Dates are kept as days since 1970 while settling: earlier dates are negative, not missing."""
    ledger = load_ledger(
        write_ledger_files(
            customers="customer_id,onboarding_date\nC1,1960-01-01\n",
            invoices="invoice_id,customer_id,issue_date,due_date,amount,settled_date\n"
            "I1,C1,1965-03-01,1965-03-31,100,\nI2,C1,1965-03-01,1965-03-31,100,\nI3,C1,1965-03-01,1965-03-31,100,1965-04-02\n",
            payments="payment_id,invoice_id,payment_date,amount\nP1,I1,1965-03-20,100\nP2,I2,1965-03-20,40\nP3,I2,1965-04-05,60\n",
        )
    )
    assert ledger.invoices["settled_date"].to_pylist() == [
        dt.date(1965, 3, 20),
        dt.date(1965, 4, 5),
        dt.date(1965, 4, 2),
    ]
