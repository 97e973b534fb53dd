"""Customer snapshot features: one row per customer and ``as_of`` date."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.features.definitions import FeatureConfig
from riskmodel.features.engine import run_feature_query
from riskmodel.ledger.tables import Ledger


def customer_snapshots(
    ledger: Ledger, as_of_dates: Iterable[date], customer_ids: Iterable[str] | None = None
) -> pa.Table:
    """(snapshot_id, customer_id, as_of) for every customer onboarded on or before each date."""
    customers = ledger.customers.select(["customer_id", "onboarding_date"])
    if customer_ids is not None:
        customers = customers.filter(
            pc.is_in(customers["customer_id"], pa.array(list(customer_ids), pa.string()))
        )
    parts = []
    for as_of in sorted(set(as_of_dates)):
        onboarded = customers.filter(
            pc.less_equal(customers["onboarding_date"], pa.scalar(as_of, pa.date32()))
        )
        parts.append(
            pa.table(
                {
                    "customer_id": onboarded["customer_id"],
                    "as_of": pa.array([as_of] * onboarded.num_rows, pa.date32()),
                }
            )
        )
    table = (
        pa.concat_tables(parts)
        if parts
        else pa.table({"customer_id": pa.array([], pa.string()), "as_of": pa.array([], pa.date32())})
    )
    return table.add_column(0, "snapshot_id", pa.array(range(table.num_rows), pa.int64()))


def snapshot_features(
    ledger: Ledger, snapshots: pa.Table, config: FeatureConfig | None = None
) -> pd.DataFrame:
    """Customer features for arbitrary (customer_id, as_of) snapshots."""
    return run_feature_query(ledger, snapshots, "customer", config)


def customer_features(
    ledger: Ledger,
    as_of: date,
    config: FeatureConfig | None = None,
    active_only: bool = True,
    customer_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Features known at the end of ``as_of`` for each customer active then, keyed by ``customer_id``.

    A customer is active when onboarded on or before ``as_of`` and either invoiced within
    ``config.active_window_days`` or holding an open invoice.
    """
    config = config or FeatureConfig()
    frame = snapshot_features(ledger, customer_snapshots(ledger, [as_of], customer_ids), config)
    if active_only:
        frame = frame[is_active(frame, config)]
    return frame.drop(columns="snapshot_id").reset_index(drop=True)


def is_active(features: pd.DataFrame, config: FeatureConfig) -> pd.Series:
    """Whether each snapshot's customer is active (recent invoice or open balance)."""
    recent = features["days_since_last_invoice"].lt(config.active_window_days).fillna(False)
    return recent | features["n_invoices_open"].gt(0)
