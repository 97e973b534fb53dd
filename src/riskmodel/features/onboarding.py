"""Onboarding features: application and firmographic data only, no payment history.

:data:`APPLICATION_FIELDS` is the one list of what an application carries: the
registry's onboarding-level features. Training builds its onboarding rows from these
columns of the customers table, and ``POST /onboard`` scores exactly these fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from riskmodel.features.definitions import FeatureConfig, features_for
from riskmodel.ledger.tables import Ledger

APPLICATION_FIELDS: tuple[str, ...] = tuple(f.name for f in features_for("onboarding"))


def application_row(application: Mapping[str, Any], customer_id: str = "applicant") -> pd.DataFrame:
    """A one-row customers frame from an application: its :data:`APPLICATION_FIELDS`, the rest dropped."""
    fields = {name: application.get(name) for name in APPLICATION_FIELDS}
    return pd.DataFrame([{"customer_id": customer_id, "onboarding_date": pd.NaT, **fields}])


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
