"""Every row rule of the ledger contract: a bad file each, asserting the row number and the reason."""

from __future__ import annotations

import pytest

from riskmodel.ledger import load_ledger
from tests.conftest import CUSTOMERS_CSV, INVOICES_CSV, PAYMENTS_CSV

INVOICE_HEADER = INVOICES_CSV.splitlines()[0]
PAYMENT_HEADER = PAYMENTS_CSV.splitlines()[0]


def _rejects(ledger, table):
    return ledger.report.rejected[table]


def _only_reject(ledger, table):
    rejects = _rejects(ledger, table)
    assert len(rejects) == 1, rejects[["row", "reason"]].to_string()
    return rejects.iloc[0]


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        (
            "I9,C1,2023-02-01,2023-01-03,100,,,",
            "due_date",
            "due_date 2023-01-03 is before issue_date 2023-02-01",
        ),
        ("I9,C1,2023-02-01,2023-03-03,0,,,", "amount", "amount '0' must be greater than 0"),
        ("I9,C1,2023-02-01,2023-03-03,-12.5,,,", "amount", "amount '-12.5' must be greater than 0"),
        ("I9,C1,2023-02-01,2023-03-03,12 EUR,,,", "amount", "amount '12 EUR' is not a number"),
        (
            "I9,C1,03/02/2023,2023-03-03,100,,,",
            "issue_date",
            "issue_date '03/02/2023' is not a date in YYYY-MM-DD form",
        ),
        (
            "I9,C1,2023-02-30,2023-03-03,100,,,",
            "issue_date",
            "issue_date '2023-02-30' is not a calendar date",
        ),
        ("I9,C1,1023-02-01,2023-03-03,100,,,", "issue_date", "issue_date '1023-02-01' is out of range"),
        (
            "I9,C1,2023-02-01,2023-03-03,100,2023-01-15,,",
            "settled_date",
            "settled_date 2023-01-15 is before issue_date 2023-02-01",
        ),
        (
            "I9,C1,2023-02-01,2023-03-03,100,,2023-01-15,",
            "dispute_date",
            "dispute_date 2023-01-15 is before issue_date",
        ),
        (
            "I9,C1,2023-02-01,2023-03-03,100,,,2023-01-15",
            "written_off_date",
            "written_off_date 2023-01-15 is before issue_date",
        ),
        (
            "I9,C7,2023-02-01,2023-03-03,100,,,",
            "customer_id",
            "customer_id 'C7' is not among the accepted customers",
        ),
        (",C1,2023-02-01,2023-03-03,100,,,", "invoice_id", "invoice_id is empty; it is required"),
        ("I9,C1,,2023-03-03,100,,,", "issue_date", "issue_date is empty; it is required"),
        ("I9,C1,2023-02-01,2023-03-03,100,,", "", "row has 7 fields but the header has 8"),
    ],
    ids=[
        "due-before-issue",
        "zero-amount",
        "negative-amount",
        "amount-not-number",
        "date-wrong-form",
        "date-not-calendar",
        "date-out-of-range",
        "settled-before-issue",
        "dispute-before-issue",
        "written-off-before-issue",
        "unknown-customer",
        "empty-key",
        "empty-required-date",
        "wrong-field-count",
    ],
)
def test_invoice_rule_rejects_row_with_reason(write_ledger_files, line, column, reason):
    folder = write_ledger_files(invoices=INVOICES_CSV + line + "\n")
    ledger = load_ledger(folder)
    reject = _only_reject(ledger, "invoices")
    assert reject["row"] == 5  # header is row 1, the three good invoices rows 2-4
    assert reject["column"] == column
    assert reason in reject["reason"]
    assert ledger.invoices.num_rows == 3


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        ("C3,2023-01-01,X,-1,30", "credit_limit", "credit_limit '-1' must be at least 0"),
        (
            "C3,2023-01-01,X,100,thirty",
            "payment_terms_days",
            "payment_terms_days 'thirty' is not a whole number",
        ),
        ("C3,2023-01-01,X,100,30.5", "payment_terms_days", "payment_terms_days '30.5' is not a whole number"),
        ("C3,,X,100,30", "onboarding_date", "onboarding_date is empty; it is required"),
        ("C3,2023-13-01,X,100,30", "onboarding_date", "onboarding_date '2023-13-01' is not a calendar date"),
    ],
    ids=["negative-limit", "terms-not-number", "terms-not-whole", "missing-onboarding", "bad-month"],
)
def test_customer_rule_rejects_row_with_reason(write_ledger_files, line, column, reason):
    ledger = load_ledger(write_ledger_files(customers=CUSTOMERS_CSV + line + "\n"))
    reject = _only_reject(ledger, "customers")
    assert (reject["row"], reject["column"]) == (4, column)
    assert reason in reject["reason"]


def test_identical_duplicate_keeps_first_and_rejects_repeat(write_ledger_files):
    repeated = INVOICES_CSV.splitlines()[1]
    ledger = load_ledger(write_ledger_files(invoices=INVOICES_CSV + repeated + "\n"))
    reject = _only_reject(ledger, "invoices")
    assert reject["row"] == 5
    assert "duplicate of row 2 (invoice_id I1)" in reject["reason"]
    assert ledger.invoices.num_rows == 3


def test_conflicting_duplicate_key_rejects_every_copy(write_ledger_files):
    ledger = load_ledger(write_ledger_files(invoices=INVOICES_CSV + "I2,C2,2023-03-01,2023-03-31,999,,,\n"))
    rejects = _rejects(ledger, "invoices")
    assert rejects["row"].tolist() == [3, 5]
    assert rejects["reason"].str.contains("invoice_id I2 appears 2 times with different values").all()
    assert "I2" not in ledger.invoices["invoice_id"].to_pylist()


def test_payment_for_unknown_invoice_is_rejected(write_ledger_files):
    ledger = load_ledger(write_ledger_files(payments=PAYMENTS_CSV + "P4,I404,2023-05-01,10\n"))
    reject = _only_reject(ledger, "payments")
    assert (reject["row"], reject["column"]) == (5, "invoice_id")
    assert "invoice_id 'I404' is not among the accepted invoices" in reject["reason"]


def test_payment_before_issue_is_rejected(write_ledger_files):
    ledger = load_ledger(write_ledger_files(payments=PAYMENTS_CSV + "P4,I2,2023-01-01,10\n"))
    reject = _only_reject(ledger, "payments")
    assert reject["column"] == "payment_date"
    assert "before the invoice's issue_date 2023-03-01" in reject["reason"]


def test_payment_exceeding_invoice_is_rejected_as_overpayment(write_ledger_files):
    ledger = load_ledger(write_ledger_files(payments=PAYMENTS_CSV + "P4,I1,2023-03-05,0.5\n"))
    reject = _only_reject(ledger, "payments")
    assert reject["row"] == 5
    assert (
        "payments for invoice 'I1' reach 100.5 with this row, above the invoice amount 100.0"
        in reject["reason"]
    )


def test_event_with_unknown_type_or_customer_is_rejected(write_ledger_files):
    events = "customer_id,date,type\nC1,2023-06-01,bankruptcy\nC1,2023-06-01,fraud\nC9,2023-06-01,write_off\n"
    ledger = load_ledger(write_ledger_files(events=events))
    rejects = _rejects(ledger, "events")
    assert rejects["row"].tolist() == [3, 4]
    assert "type 'fraud' is not one of bankruptcy" in rejects["reason"].iloc[0]
    assert "customer_id 'C9' is not among the accepted customers" in rejects["reason"].iloc[1]


def test_invoice_of_rejected_customer_is_rejected_too(write_ledger_files):
    customers = CUSTOMERS_CSV.replace("C2,2023-02-01", "C2,2023-02-31")
    ledger = load_ledger(write_ledger_files(customers=customers))
    assert _rejects(ledger, "customers")["row"].tolist() == [3]
    assert _rejects(ledger, "invoices")["row"].tolist() == [4]
    assert _rejects(ledger, "payments")["row"].tolist() == [3, 4]  # payments of the now-unknown invoice I3


def test_quarantine_keeps_original_values(write_ledger_files):
    ledger = load_ledger(
        write_ledger_files(invoices=INVOICES_CSV + 'I9,C1,2023-02-01,2023-03-03,"1,000.00",,,\n')
    )
    reject = _only_reject(ledger, "invoices")
    assert reject["amount"] == "1,000.00"
    assert reject["invoice_id"] == "I9"


def test_a_typed_source_rejects_what_the_same_rows_as_text_reject(write_ledger_files, tmp_path):
    """Parquet skips parsing, not rules: every rule that can break in typed values rejects the same rows."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    folder = write_ledger_files(
        customers=CUSTOMERS_CSV
        + "C3,2023-02-01,Crane,7000,30\nC3,2023-02-01,Crane,7000,30\n C4 ,2023-02-01,Dune,100,30\n",
        invoices=INVOICES_CSV
        + "I2,C2,2023-03-01,2023-03-31,999,,,\n"  # conflicting repeat
        + "I4,C1,2023-02-01,2023-01-03,100,,,\n"  # due before issue
        + "I5,C1,2023-02-01,2023-03-03,0,,,\n"  # not positive
        + "I6,C9,2023-02-01,2023-03-03,10,,,\n"  # unknown customer
        + "I7,C1,1023-02-01,2023-03-03,10,,,\n"  # out of range
        + "I8, C4 ,2023-02-01,2023-03-03,10,,,\n"  # padded id, as the customer's
        + "I1,C1,2023-02-01,2023-03-03,100,2023-03-01,,\n",  # identical repeat
        payments=PAYMENTS_CSV
        + "P4,I404,2023-05-01,10\n"  # unknown invoice
        + "P5,I1,2023-01-01,10\n"  # before issue
        + "P6,I8,2023-03-01,10\n"
        + "P6,I8,2023-03-01,10\n"  # identical repeat
        + "P7,I3,2023-05-21,1\n",  # overpayment
    )
    typed = tmp_path / "typed"
    typed.mkdir()
    for name in ("customers", "invoices", "payments"):
        table = pacsv.read_csv(
            folder / f"{name}.csv", convert_options=pacsv.ConvertOptions(strings_can_be_null=True)
        )
        pq.write_table(table, typed / f"{name}.parquet")
    as_text, as_typed = load_ledger(folder), load_ledger(typed)
    for name in ("customers", "invoices", "payments"):
        text_rejects, typed_rejects = _rejects(as_text, name), _rejects(as_typed, name)
        assert typed_rejects["row"].tolist() == [n - 1 for n in text_rejects["row"]], name  # no header row
        assert typed_rejects["column"].tolist() == text_rejects["column"].tolist(), name
        assert len(typed_rejects) > 0, name
        assert getattr(as_typed, name).equals(getattr(as_text, name)), name
    assert as_typed.customers["customer_id"].to_pylist() == ["C1", "C2", "C3", "C4"]
