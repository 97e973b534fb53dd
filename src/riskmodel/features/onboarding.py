"""Onboarding features: application and firmographic data only, no payment history."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from riskmodel.features.definitions import FeatureConfig, features_for
from riskmodel.ledger.tables import Ledger


def onboarding_features(
    customers: pd.DataFrame | pa.Table | Ledger, config: FeatureConfig | None = None
) -> pd.DataFrame:
    """One row per customer: ``customer_id, onboarding_date`` and the onboarding features.

    Accepts a ledger, its customers table, or application rows with the same columns
    (missing optional columns are treated as unknown).
    """
    if isinstance(customers, Ledger):
        customers = customers.customers
    frame = customers.to_pandas(date_as_object=False) if isinstance(customers, pa.Table) else customers.copy()
    out = frame[["customer_id", "onboarding_date"]].copy()
    for feature in features_for("onboarding", config):
        values = frame[feature.name] if feature.name in frame.columns else pd.Series(None, index=frame.index)
        out[feature.name] = (
            values.astype("string").astype(object)
            if feature.categorical
            else pd.to_numeric(values, errors="coerce").astype("float64")
        )
    return out.reset_index(drop=True)
