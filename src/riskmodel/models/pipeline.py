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
from riskmodel.models.specs import Target
from riskmodel.models.timing import PaymentTiming, TimingDistribution, band_of, distribution

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

    @property
    def input_columns(self) -> list[str]:
        """Columns :meth:`predict` reads: the features."""
        return self.feature_names

    @property
    def outputs(self) -> list[str]:
        """Output columns of :meth:`predict`, the first is the one drift is watched on."""
        return [head.target.output for head in self.heads]

    def importance(self) -> np.ndarray:
        """Importance of each feature to the first output (split gain of a GBM, term spread of a scorecard)."""
        return self.heads[0].scorer.importance()

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


class LatePaymentModel(RiskPipeline):
    """Payment timing of invoices from one distribution (:class:`~riskmodel.models.timing.PaymentTiming`).

    ``P(days beyond terms > k)`` for each threshold of ``targets`` comes from one survival
    curve per invoice, so it never rises with ``k``; the payment-date quantiles come from
    the same curve. Scored at issue (:meth:`predict_proba`) or as of a later date on open
    invoices (:meth:`predict_timing` with their days past due, dispute and share paid).
    """

    def __init__(
        self,
        name: str,
        preparer: FeaturePreparer,
        timing: PaymentTiming,
        targets: tuple[Target, ...],
        feature_config: FeatureConfig,
        trained_as_of: date | None,
    ) -> None:
        super().__init__(name, preparer, (), "hazard", feature_config, trained_as_of)
        self.timing = timing
        self.targets = targets

    @property
    def outputs(self) -> list[str]:
        return [t.output for t in self.targets]

    @property
    def input_columns(self) -> list[str]:
        """The features and ``invoice_terms_days`` (the earliest payment day), even where terms never vary."""
        names = self.feature_names
        return names if "invoice_terms_days" in names else [*names, "invoice_terms_days"]

    def _target(self, output: str | None) -> Target:
        for target in self.targets:
            if output is None or target.output == output:
                return target
        raise ValueError(f"unknown output {output!r}; this model has {self.outputs}")

    def importance(self) -> np.ndarray:
        return self.timing.importance()

    def _distribution(
        self,
        X: pd.DataFrame,
        days_past_due: np.ndarray | None,
        disputed: np.ndarray | None,
        paid_share: np.ndarray | None,
    ) -> tuple[TimingDistribution, np.ndarray]:
        """Each invoice's survival curve and the day it is known unpaid through (the day before issue when at issue)."""
        earliest = -X["invoice_terms_days"].to_numpy(dtype=float)
        after = earliest - 1 if days_past_due is None else np.asarray(days_past_due, dtype=float)
        after = np.where(np.isnan(after), earliest - 1, after)
        hazards = self.timing.hazards(self._matrix(X), earliest, after, disputed, paid_share)
        return distribution(hazards, earliest), after

    def unpaid_after(
        self,
        X: pd.DataFrame,
        days: np.ndarray,
        days_past_due: np.ndarray | None = None,
        disputed: np.ndarray | None = None,
        paid_share: np.ndarray | None = None,
    ) -> np.ndarray:
        """P(still unpaid after each of ``days`` days beyond terms), shape (n_rows, n_days).

        ``days`` is one list for every row, shape (n_days,), or one per row, shape
        (n_rows, n_days), e.g. week ends counted from each invoice's own due date.
        Conditional on the invoice's status as :meth:`predict_timing` takes it; 1 for days
        up to ``days_past_due``. Differences between columns are the chance of payment in
        between (:mod:`riskmodel.forecast` sums them with the open amounts).
        """
        dist, after = self._distribution(X, days_past_due, disputed, paid_share)
        days = np.asarray(days, dtype=float)
        grid = np.broadcast_to(days, (len(X), days.shape[-1])) if days.ndim == 1 else days
        at_after = np.maximum(dist.at(after), 1e-12)
        columns = [dist.at(grid[:, j]) / at_after for j in range(grid.shape[1])]
        out = np.column_stack(columns) if columns else np.zeros((len(X), 0))
        return np.where(grid <= after[:, None], 1.0, np.minimum(out, 1.0))

    def predict_timing(
        self,
        X: pd.DataFrame,
        days_past_due: np.ndarray | None = None,
        disputed: np.ndarray | None = None,
        paid_share: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """P(days beyond terms > k) per threshold and the days beyond terms of the P10/P50/P90 payment dates.

        Without ``days_past_due`` every invoice is scored at issue. With it (NaN for an
        invoice scored at issue), an invoice unpaid ``d`` days past due is scored given
        that: P(> k) is 1 for ``k <= d``, the rest conditional on surviving to ``d``, with
        the hazards at its ``disputed`` and ``paid_share`` status, and every quantile is
        after ``d``. Columns: the outputs, ``expected_days_beyond_terms`` (the median),
        ``days_beyond_terms_p10``, ``days_beyond_terms_p90``.
        """
        dist, after = self._distribution(X, days_past_due, disputed, paid_share)
        at_after = dist.at(after)
        frame = pd.DataFrame(index=X.index)
        for target in self.targets:
            k = np.full(len(X), float(target.threshold_days or 0))
            frame[target.output] = np.where(k <= after, 1.0, dist.at(k) / np.maximum(at_after, 1e-12))
        low, median, high = dist.interval_days(after)
        frame["expected_days_beyond_terms"] = median
        frame["days_beyond_terms_p10"] = low
        frame["days_beyond_terms_p90"] = high
        return frame

    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """:meth:`predict_timing` at issue: the outputs and the payment-day quantiles, one row per invoice."""
        return self.predict_timing(X)

    def raw_score(self, X: pd.DataFrame, output: str | None = None) -> np.ndarray:
        """Log-odds of ``output`` (``p_late`` by default) at issue."""
        p = np.clip(self.predict_timing(X)[self._target(output).output].to_numpy(), 1e-12, 1 - 1e-12)
        return np.log(p / (1 - p))

    def contributions(self, X: pd.DataFrame, output: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature contributions to the log-odds of *not* being paid in the band that ends at ``output``'s threshold.

        Reasons for ``p_late`` explain why an invoice is unlikely to be paid in the days
        just before its due date, for ``p_late_30`` in the days before 30 days late, and so on.
        """
        band = int(band_of(np.array([self._target(output).threshold_days or 0]))[0])
        earliest = -X["invoice_terms_days"].to_numpy(dtype=float)
        return self.timing.band_contributions(self._matrix(X), band, earliest)

    def predict(self, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """MLflow pyfunc entry point: the same frame as :meth:`predict_proba`."""
        return self.predict_proba(model_input)
