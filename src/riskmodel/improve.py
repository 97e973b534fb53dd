"""What would lift a customer one grade: the smallest payment that moves its PD under the next better grade's bound.

Each candidate action is applied to the customer's own ledger rows (payments dated ``as_of``,
an invoice paid in full settled that day) and the changed ledger is scored again through the
same feature code and model as every score, so every feature that reads those rows moves
together. Actions are only what the customer can do: pay its overdue invoices, oldest first
(a disputed one counts as its dispute resolved by payment), then every open invoice. Facts it
cannot change (industry, country, age, size) are never touched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.features.customer import customer_features
from riskmodel.ledger.tables import Ledger
from riskmodel.policy.texts import render

MAX_TRIALS = 8  # re-scorings per customer: prefixes of 1..MAX_TRIALS-1 oldest overdue invoices, then all open


@dataclass(frozen=True)
class Improvement:
    """One action, what it pays and the PD and grade after it."""

    action: str  # pay_overdue | pay_open
    invoice_ids: tuple[str, ...]
    amount: float
    pd_12m: float
    grade: int
    target_pd: float

    def record(self, lang: str) -> dict[str, Any]:
        """The ``to_improve[]`` item of a score answer."""
        text = render(
            f"improve.{self.action}",
            lang,
            n=len(self.invoice_ids),
            amount=self.amount,
            invoices=", ".join(self.invoice_ids[:5]) + (", ..." if len(self.invoice_ids) > 5 else ""),
            pd_12m=self.pd_12m,
            grade=self.grade,
            target_pd=self.target_pd,
        )
        return {**dataclasses.asdict(self), "invoice_ids": list(self.invoice_ids), "text": text}


def paid_ledger(ledger: Ledger, invoices: pd.DataFrame, as_of: date) -> Ledger:
    """``ledger`` with each invoice of ``invoices`` (``invoice_id, customer_id, open_amount``) paid in full on ``as_of``."""
    given = {
        "payment_id": [f"to-improve-{invoice}" for invoice in invoices["invoice_id"]],
        "invoice_id": invoices["invoice_id"].astype(str).tolist(),
        "customer_id": invoices["customer_id"].astype(str).tolist(),
        "payment_date": [as_of] * len(invoices),
        "amount": invoices["open_amount"].astype(float).tolist(),
    }
    schema = ledger.payments.schema
    payments = pa.table(
        [
            pa.array(given[field.name], field.type)
            if field.name in given
            else pa.nulls(len(invoices), field.type)
            for field in schema
        ],
        schema=schema,
    )
    table = ledger.invoices
    paid = pc.is_in(
        table["invoice_id"], value_set=pa.array(given["invoice_id"], table.schema.field("invoice_id").type)
    )
    settled_type = table.schema.field("settled_date").type
    settled = pc.if_else(paid, pa.scalar(as_of, settled_type), table["settled_date"])
    invoice_table = table.set_column(table.schema.get_field_index("settled_date"), "settled_date", settled)
    return dataclasses.replace(
        ledger, invoices=invoice_table, payments=pa.concat_tables([ledger.payments, payments])
    )


def _candidates(open_invoices: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Actions to try, smallest first: the k oldest overdue invoices, then every open invoice."""
    overdue = open_invoices[open_invoices["days_past_due"] > 0].sort_values(
        ["days_past_due", "invoice_id"], ascending=[False, True]
    )
    tries = [("pay_overdue", overdue.head(k)) for k in range(1, min(len(overdue), MAX_TRIALS - 1) + 1)]
    if len(overdue) > MAX_TRIALS - 1:
        tries[-1] = ("pay_overdue", overdue)
    if len(open_invoices) > len(overdue):
        tries.append(("pay_open", open_invoices))
    return tries


def to_improve(
    bundle: Any,
    ledger: Ledger,
    customer_id: str,
    as_of: date,
    grade: int,
    open_invoices: pd.DataFrame,
) -> list[Improvement]:
    """The smallest action that lifts the customer at least one grade (empty when none does, or at grade 1).

    ``bundle`` is the :class:`riskmodel.scoring.ModelBundle` that scored the customer;
    ``open_invoices`` its open invoices at ``as_of`` (:func:`riskmodel.scoring.open_invoices`).
    """
    from riskmodel.scoring import customer_default_state, score_features

    if grade <= 1 or open_invoices.empty:
        return []
    target = float(bundle.policy.master_scale.upper_pd[grade - 2])
    for action, paid in _candidates(open_invoices):
        changed = paid_ledger(ledger, paid, as_of)
        features = customer_features(
            changed, as_of, bundle.feature_config, active_only=False, customer_ids=[customer_id]
        )
        state = customer_default_state(changed, as_of, features["customer_id"], bundle.policy.default)
        scored = score_features(bundle, features, state).iloc[0]
        if scored["pd_12m"] <= target:
            return [
                Improvement(
                    action,
                    tuple(paid["invoice_id"].astype(str)),
                    float(paid["open_amount"].sum()),
                    float(scored["pd_12m"]),
                    int(scored["grade"]),
                    target,
                )
            ]
    return []
