"""Every customer's scoring inputs at one date, worked out in one batch and read back one customer at a time.

The service builds a :class:`PreparedPortfolio` for the ledger's data end after it starts
and again whenever the data end moves; a ``/score`` for that date then slices the
customer's rows instead of running the feature, default-state and open-invoice queries
on its own rows. The rows are the batch's (:func:`riskmodel.scoring.prepare_scored_customers`
over all customers), so a lookup gives the numbers the on-demand path and a rescoring give.
A push that keeps the data end splices in the touched customers' rows, worked out again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from riskmodel.features.customer import customer_features, is_active
from riskmodel.features.definitions import FeatureConfig
from riskmodel.features.online import row_ranges
from riskmodel.ledger.tables import Ledger
from riskmodel.scoring import ModelBundle, PreparedCustomers, prepare_scored_customers


@dataclass(frozen=True)
class PreparedPortfolio:
    """:class:`PreparedCustomers` of every onboarded customer at ``as_of``, with an index by customer."""

    prepared: PreparedCustomers
    rows: dict[str, int]  # customer -> its row of prepared.features and prepared.default_state
    invoice_rows: dict[str, tuple[int, int]]  # customer -> (first row, count) of prepared.invoices

    @property
    def as_of(self) -> date:
        return self.prepared.as_of

    @classmethod
    def build(
        cls,
        bundle: ModelBundle,
        ledger: Ledger,
        as_of: date,
        customer_ids: list[str] | None = None,
        features: pd.DataFrame | None = None,
    ) -> PreparedPortfolio:
        """Features, default state and scored open invoices of every customer onboarded by ``as_of`` (or of ``customer_ids``).

        ``features``: those customers' features at ``as_of`` when computed already (``customer_features`` with ``active_only=False``).
        """
        if features is None:
            features = customer_features(
                ledger, as_of, bundle.feature_config, active_only=False, customer_ids=customer_ids
            )
        return cls.of(prepare_scored_customers(bundle, ledger, as_of, features))

    @classmethod
    def of(cls, prepared: PreparedCustomers) -> PreparedPortfolio:
        invoices = prepared.invoices.sort_values("customer_id", kind="stable").reset_index(drop=True)
        prepared = PreparedCustomers(prepared.as_of, prepared.features, prepared.default_state, invoices)
        ids = prepared.features["customer_id"].to_numpy(dtype=object)
        return cls(
            prepared,
            {customer: row for row, customer in enumerate(ids.tolist())},
            row_ranges(invoices["customer_id"].to_numpy(dtype=object)),
        )

    def customer(self, customer_id: str) -> PreparedCustomers | None:
        """The customer's rows, as :func:`prepare_scored_customers` gives them for it alone (None when not held)."""
        return self.customers([customer_id]) if customer_id in self.rows else None

    def customers(self, customer_ids: Sequence[str]) -> PreparedCustomers:
        """The rows of these held customers, in this order (give them sorted to match a batch of them alone)."""
        rows = [self.rows[customer_id] for customer_id in customer_ids]
        spans = (self.invoice_rows.get(customer_id, (0, 0)) for customer_id in customer_ids)
        invoice_rows = [row for start, count in spans for row in range(start, start + count)]
        return PreparedCustomers(
            self.as_of,
            self.prepared.features.iloc[rows].reset_index(drop=True),
            self.prepared.default_state.iloc[rows].reset_index(drop=True),
            self.prepared.invoices.iloc[invoice_rows].reset_index(drop=True),
        )

    def active_features(self, config: FeatureConfig) -> pd.DataFrame:
        """The features of the held customers active at ``as_of`` (:func:`customer_features`' default rows)."""
        features = self.prepared.features
        active = is_active(features, config)
        if len(self.rows) < len(features):  # rows left out (:meth:`without`) are not held
            active &= features["customer_id"].isin(list(self.rows)).to_numpy()
        return features[active].reset_index(drop=True)

    def without(self, customer_ids: frozenset[str]) -> PreparedPortfolio:
        """This portfolio no longer holding these customers' rows (their rows changed), without copying the others."""
        if not customer_ids & self.rows.keys():
            return self
        return PreparedPortfolio(
            self.prepared,
            {c: row for c, row in self.rows.items() if c not in customer_ids},
            {c: rows for c, rows in self.invoice_rows.items() if c not in customer_ids},
        )

    def replaced(self, changed: frozenset[str], part: PreparedPortfolio) -> PreparedPortfolio:
        """This portfolio without the ``changed`` customers' rows, plus ``part``'s (worked out again for them)."""
        mine, theirs = self.prepared, part.prepared
        keep = ~mine.features["customer_id"].isin(list(changed)).to_numpy()
        keep_invoices = ~mine.invoices["customer_id"].isin(list(changed)).to_numpy()

        def joined(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
            return pd.concat([a, b], ignore_index=True) if len(b) else a.reset_index(drop=True)

        return PreparedPortfolio.of(
            PreparedCustomers(
                self.as_of,
                joined(mine.features[keep], theirs.features),
                joined(mine.default_state[keep], theirs.default_state),
                joined(mine.invoices[keep_invoices], theirs.invoices),
            )
        )
