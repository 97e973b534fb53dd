"""Batch scoring of invoices with a late-payment model, each as of its own issue date."""

from __future__ import annotations

import pandas as pd

from riskmodel.features.invoice import invoice_features
from riskmodel.ledger.tables import Ledger
from riskmodel.models.pipeline import LatePaymentModel

SCORE_COLUMNS = (
    "invoice_id",
    "p_late",
    "p_late_30",
    "p_late_60",
    "p_late_90",
    "expected_days_beyond_terms",
    "expected_payment_date",
)


def expected_payment_dates(features: pd.DataFrame, expected_days_beyond_terms: pd.Series) -> pd.Series:
    """Due date (issue date + invoice terms) plus the expected days beyond terms, rounded to whole days."""
    due = pd.to_datetime(features["issue_date"]) + pd.to_timedelta(features["invoice_terms_days"], unit="D")
    return (due + pd.to_timedelta(expected_days_beyond_terms.round(), unit="D")).dt.normalize()


def score_invoices(ledger: Ledger, model: LatePaymentModel) -> pd.DataFrame:
    """One row per invoice of ``ledger``: P(days beyond terms > 0/30/60/90) and the expected payment date.

    Every invoice is scored with the features known the day before its issue date (the
    same features the model was trained on), so settled invoices get the score they would
    have had when issued.
    """
    features = invoice_features(ledger, config=model.feature_config)
    if features.empty:
        return pd.DataFrame(columns=list(SCORE_COLUMNS))
    scores = model.predict_proba(features)
    scores.insert(0, "invoice_id", features["invoice_id"].to_numpy())
    scores["expected_payment_date"] = expected_payment_dates(
        features, scores["expected_days_beyond_terms"]
    ).dt.date
    return scores[list(SCORE_COLUMNS)].reset_index(drop=True)
