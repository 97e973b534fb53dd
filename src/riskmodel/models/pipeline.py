"""The fitted models as the service and reason codes use them, and as MLflow stores them (pyfunc)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from riskmodel.features.definitions import FeatureConfig, describe
from riskmodel.models.columns import FeaturePreparer
from riskmodel.models.heads import Head

if TYPE_CHECKING:
    from riskmodel.validation.drift import DriftMonitor


class RiskPipeline(mlflow.pyfunc.PythonModel):
    """Feature preparation plus one calibrated head per target, as one object.

    Parameters
    ----------
    name : str
        ``late_payment``, ``default`` or ``onboarding``.
    preparer : FeaturePreparer
        Fitted column selection and encoding.
    heads : tuple of Head
        Fitted heads, in target order.
    kind : str
        The model family chosen on the selection slice: ``"gbm"`` or ``"scorecard"``.
    feature_config : FeatureConfig
        Windows the features were computed with; score with the same.
    trained_as_of : date or None
        Last day of data the model saw (labels included); None for data sets without dates.

    Attributes
    ----------
    drift_monitor : DriftMonitor or None
        Bins of the first output and the most important features on the training slice,
        set by training (:func:`riskmodel.models.fit.fit_model`); batch rescoring measures
        the portfolio's drift against it. None on models trained without one.
    """

    def __init__(
        self,
        name: str,
        preparer: FeaturePreparer,
        heads: tuple[Head, ...],
        kind: str,
        feature_config: FeatureConfig,
        trained_as_of: date | None,
    ) -> None:
        self.name = name
        self.preparer = preparer
        self.heads = heads
        self.kind = kind
        self.feature_config = feature_config
        self.trained_as_of = trained_as_of
        self.drift_monitor: DriftMonitor | None = None

    @property
    def feature_names(self) -> list[str]:
        """Feature columns the model reads, in the column order of ``contributions``."""
        return list(self.preparer.feature_names_)

    def describe(self, feature_name: str, lang: str = "en") -> str:
        """Plain-language description of one of the model's features (English or Chinese)."""
        return describe(feature_name, lang, self.feature_config)  # type: ignore[arg-type]

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        return self.preparer.transform(X)

    def _head(self, output: str | None) -> Head:
        if output is None:
            return self.heads[0]
        for head in self.heads:
            if head.target.output == output:
                return head
        raise ValueError(f"unknown output {output!r}; this model has {[h.target.output for h in self.heads]}")

    def raw_score(self, X: pd.DataFrame, output: str | None = None) -> np.ndarray:
        """Uncalibrated log-odds of ``output`` (the first target by default), shape (n_rows,)."""
        return self._head(output).raw_score(self._matrix(X))

    def contributions(self, X: pd.DataFrame, output: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature contributions to the raw score, shape (n_rows, n_features), and the base, shape (n_rows,).

        ``contributions.sum(axis=1) + base`` equals :meth:`raw_score`: TreeSHAP values for a
        GBM, the linear terms for a scorecard. Columns follow :attr:`feature_names`.
        """
        return self._head(output).contributions(self._matrix(X))


class CreditModel(RiskPipeline):
    """Calibrated PD of one target: ``pd_12m`` for the default and onboarding models."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated PD (``pd_12m``) of each row of the feature table ``X``, shape (n_rows,)."""
        return self.heads[0].probability(self._matrix(X))

    def predict(self, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """MLflow pyfunc entry point: a DataFrame with one column named by the target's output (``pd_12m``)."""
        output = self.heads[0].target.output
        return pd.DataFrame({output: self.predict_proba(model_input)}, index=model_input.index)


class DelayProfile:
    """Mean days beyond terms within each band cut by the late-payment thresholds.

    With the band probabilities of an invoice (from P(days beyond terms > k)), the expected
    days beyond terms is the probability-weighted sum of these band means. Bands without
    settled training invoices fall back to :attr:`DEFAULT_MEANS`.
    """

    DEFAULT_MEANS = (-3.0, 15.0, 45.0, 75.0, 120.0)

    def __init__(self, thresholds: tuple[int, ...]) -> None:
        self.thresholds = thresholds

    def fit(self, days_beyond_terms: np.ndarray) -> DelayProfile:
        days = np.asarray(days_beyond_terms, dtype=float)
        days = days[~np.isnan(days)]
        band = np.searchsorted(np.asarray(self.thresholds, dtype=float), days, side="left")
        self.band_means_ = np.array(
            [
                days[band == b].mean() if (band == b).any() else self.DEFAULT_MEANS[b]
                for b in range(len(self.thresholds) + 1)
            ]
        )
        return self

    def expected_days(self, p_exceed: np.ndarray) -> np.ndarray:
        """Expected days beyond terms from P(> k) of shape (n_rows, n_thresholds), non-increasing in k."""
        upper = np.column_stack([np.ones(len(p_exceed)), p_exceed])
        lower = np.column_stack([p_exceed, np.zeros(len(p_exceed))])
        return (upper - lower) @ self.band_means_


class LatePaymentModel(RiskPipeline):
    """P(days beyond terms > k) for each threshold k, non-increasing in k, and expected days beyond terms."""

    def __init__(self, *args: Any, delay_profile: DelayProfile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delay_profile = delay_profile

    @property
    def outputs(self) -> list[str]:
        return [head.target.output for head in self.heads]

    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """Columns ``p_late, p_late_30, p_late_60, p_late_90, expected_days_beyond_terms``, one row per invoice.

        Each row's probabilities are made non-increasing in the threshold (a running minimum),
        so P(> 30) never exceeds P(> 0).
        """
        matrix = self._matrix(X)
        p_exceed = np.minimum.accumulate(
            np.column_stack([head.probability(matrix) for head in self.heads]), axis=1
        )
        frame = pd.DataFrame(p_exceed, columns=self.outputs, index=X.index)
        frame["expected_days_beyond_terms"] = self.delay_profile.expected_days(p_exceed)
        return frame

    def predict(self, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """MLflow pyfunc entry point: the same frame as :meth:`predict_proba`."""
        return self.predict_proba(model_input)
