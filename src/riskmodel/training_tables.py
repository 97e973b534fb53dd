"""Training tables: (features, target, snapshot date) for each model, ready for out-of-time splits; month ends."""

from __future__ import annotations

from datetime import date

import pandas as pd

from riskmodel.features.asof import truncate_ledger
from riskmodel.features.customer import customer_snapshots, is_active, snapshot_features
from riskmodel.features.definitions import FeatureConfig
from riskmodel.features.invoice import invoice_features
from riskmodel.features.onboarding import onboarding_features
from riskmodel.labels import (
    DefaultDefinition,
    add_months,
    make_default_labels,
    make_late_payment_labels,
    make_onboarding_labels,
    make_payment_timeline,
)
from riskmodel.ledger.tables import Ledger


def month_ends(start: date, end: date) -> list[date]:
    """Month-end dates from the first month end on or after ``start`` to ``end`` inclusive.

    Examples
    --------
    >>> [d.isoformat() for d in month_ends(date(2024, 1, 31), date(2024, 3, 30))]
    ['2024-01-31', '2024-02-29']
    """
    return [d.date() for d in pd.date_range(start, end, freq="ME")]


def _known(ledger: Ledger, as_of: date | None) -> tuple[Ledger, date]:
    end = as_of or ledger.require_data_end("train on")
    return truncate_ledger(ledger, end), end


def default_training_table(
    ledger: Ledger,
    as_of: date | None = None,
    horizon_months: int = 12,
    config: FeatureConfig | None = None,
    definition: DefaultDefinition = DefaultDefinition(),
) -> pd.DataFrame:
    """Month-end customer snapshots with features and ``label_default_12m``, using only data up to ``as_of``.

    Snapshots run from the first month end after the first invoice to the last month end
    whose horizon is observed by ``as_of``; customers must be active at the snapshot.
    """
    config = config or FeatureConfig()
    known, end = _known(ledger, as_of)
    first_issue = known.frame("invoices")["issue_date"].min()
    last_snapshot = add_months(end, -horizon_months)
    if pd.isna(first_issue) or last_snapshot <= first_issue.date():
        return pd.DataFrame(columns=["customer_id", "as_of", "label_default_12m"])
    snapshots = customer_snapshots(known, month_ends(first_issue.date(), last_snapshot))
    features = snapshot_features(known, snapshots, config)
    features = features[is_active(features, config)].drop(columns="snapshot_id")
    labels = make_default_labels(known, features[["customer_id", "as_of"]], end, horizon_months, definition)
    features["as_of"] = pd.to_datetime(features["as_of"])
    labels["as_of"] = pd.to_datetime(labels["as_of"])
    return features.merge(labels, on=["customer_id", "as_of"], how="inner", validate="one_to_one")


def late_payment_training_table(
    ledger: Ledger, as_of: date | None = None, config: FeatureConfig | None = None
) -> pd.DataFrame:
    """Invoice features at issue with ``days_beyond_terms``, ``label_late_<k>`` (NaN where censored) and the payment timeline.

    The timeline (:func:`riskmodel.labels.make_payment_timeline`) is what the payment-timing
    model learns from, censored invoices included.
    """
    known, end = _known(ledger, as_of)
    features = invoice_features(known, config=config)
    labels = make_late_payment_labels(known, end).merge(
        make_payment_timeline(known, end), on="invoice_id", how="inner", validate="one_to_one"
    )
    return features.merge(labels, on="invoice_id", how="inner", validate="one_to_one")


def onboarding_training_table(
    ledger: Ledger,
    as_of: date | None = None,
    horizon_months: int = 12,
    config: FeatureConfig | None = None,
    definition: DefaultDefinition = DefaultDefinition(),
) -> pd.DataFrame:
    """Application features at onboarding with ``label_default_12m`` (censored customers left out)."""
    known, end = _known(ledger, as_of)
    features = onboarding_features(known, config)
    labels = make_onboarding_labels(known, end, horizon_months, definition)
    labels["onboarding_date"] = pd.to_datetime(labels["onboarding_date"])
    features["onboarding_date"] = pd.to_datetime(features["onboarding_date"])
    return features.merge(labels, on=["customer_id", "onboarding_date"], how="inner", validate="one_to_one")
