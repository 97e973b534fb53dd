"""``to_improve``: the suggested payment, applied to the ledger and scored again by the full path, lifts the grade."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from riskmodel.improve import paid_ledger, to_improve
from riskmodel.ledger import load_ledger
from riskmodel.scoring import ModelBundle, score_customers
from tests.conftest import SAMPLE

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def scored(sample_models: str):
    bundle = ModelBundle.from_registry(sample_models)
    ledger = load_ledger(SAMPLE)
    return bundle, ledger, score_customers(bundle, ledger, AS_OF)


def test_each_suggestion_lifts_the_grade_when_rescored(scored) -> None:
    bundle, ledger, result = scored
    scores = result.scores
    candidates = scores[(scores["grade"] > 1) & ~scores["in_default"]].head(12)
    suggested = 0
    for row in candidates.itertuples():
        invoices = result.open_invoices[result.open_invoices["customer_id"] == row.customer_id]
        found = to_improve(bundle, ledger, row.customer_id, AS_OF, int(row.grade), invoices)
        if not found:
            continue
        suggested += 1
        (item,) = found
        assert item.action in ("pay_overdue", "pay_open")  # payments only: nothing the customer cannot change
        paid = invoices[invoices["invoice_id"].isin(item.invoice_ids)]
        assert item.amount == pytest.approx(paid["open_amount"].sum())
        again = score_customers(
            bundle, paid_ledger(ledger, paid, AS_OF), AS_OF, customer_ids=[row.customer_id]
        )
        rescored = again.scores.iloc[0]
        bound = bundle.policy.master_scale.upper_pd[int(row.grade) - 2]
        assert rescored["pd_12m"] == pytest.approx(item.pd_12m)
        assert rescored["pd_12m"] <= bound and rescored["grade"] < row.grade
    assert suggested >= 2


def test_paying_changes_only_the_customers_payment_rows(scored) -> None:
    _, ledger, result = scored
    invoices = result.open_invoices.head(3)
    changed = paid_ledger(ledger, invoices, AS_OF)
    assert changed.customers.equals(ledger.customers) and changed.events.equals(ledger.events)
    assert changed.payments.num_rows == ledger.payments.num_rows + 3
    settled = changed.invoices.filter(
        pa.compute.is_in(changed.invoices["invoice_id"], pa.array(invoices["invoice_id"]))
    )
    assert set(settled["settled_date"].to_pylist()) == {AS_OF}


def test_the_best_grade_has_nothing_to_improve(scored) -> None:
    bundle, ledger, result = scored
    customer_id = result.open_invoices["customer_id"].iloc[0]
    invoices = result.open_invoices[result.open_invoices["customer_id"] == customer_id]
    assert not invoices.empty
    assert to_improve(bundle, ledger, customer_id, AS_OF, 1, invoices) == []
