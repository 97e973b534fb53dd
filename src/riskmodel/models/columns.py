"""From a feature table to the model matrix: usable registry features only, categoricals as codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from riskmodel.features.definitions import Feature


class FeaturePreparer(TransformerMixin, BaseEstimator):
    """Select the registry features a model can learn from and turn them into a float matrix.

    ``fit`` keeps the features of ``features`` that are present and carry information in the
    training rows, and drops the others with a reason (absent, all missing, one value only):
    a ledger without payments, firmographics or events leaves many such columns.
    Categorical features become integer codes of the categories seen in training (missing
    values become NaN, unseen categories -1: both are LightGBM's missing; the scorecard
    gives an unseen category WoE 0). A numeric feature never missing in training is filled
    with its training median when missing at scoring: neutral, where LightGBM would read
    the NaN as 0 (a bureau score of 0, say) and the scorecard would use an unfitted bin.

    Parameters
    ----------
    features : tuple of Feature
        Candidate features, in registry order.

    Attributes
    ----------
    feature_names_ : list of str
        Kept features, the columns of the matrix ``transform`` returns.
    dropped_ : dict of str to str
        Dropped features and why.
    categories_ : dict of str to list of str
        Categories of each kept categorical feature, in code order.
    monotone_ : list of int
        Monotone constraint of each kept feature: the registry ``direction`` (0 for categoricals).
    fill_ : dict of str to float
        Training median of each kept numeric feature that had no missing value in training.
    """

    def __init__(self, features: tuple[Feature, ...] = ()) -> None:
        self.features = features

    def fit(self, X: pd.DataFrame, y: object = None) -> FeaturePreparer:
        kept: list[Feature] = []
        self.dropped_: dict[str, str] = {}
        self.categories_: dict[str, list[str]] = {}
        for feature in self.features:
            reason = _unusable(X, feature.name)
            if reason:
                self.dropped_[feature.name] = reason
                continue
            kept.append(feature)
            if feature.categorical:
                self.categories_[feature.name] = sorted(
                    X[feature.name].dropna().astype(str).unique().tolist()
                )
        self.fill_: dict[str, float] = {
            f.name: float(pd.to_numeric(X[f.name], errors="coerce").median())
            for f in kept
            if not f.categorical and pd.to_numeric(X[f.name], errors="coerce").notna().all()
        }
        self.feature_names_ = [f.name for f in kept]
        self.monotone_ = [0 if f.categorical else int(np.sign(f.direction)) for f in kept]
        self.categorical_indices_ = [i for i, f in enumerate(kept) if f.categorical]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """The kept features of ``X`` as a float64 matrix of shape (n_rows, n_features)."""
        check_is_fitted(self, "feature_names_")
        missing = [name for name in self.feature_names_ if name not in X.columns]
        if missing:
            raise ValueError(
                f"the input lacks the model's feature column(s) {missing}; compute features with the same FeatureConfig"
            )
        matrix = np.empty((len(X), len(self.feature_names_)), dtype=np.float64)
        numeric = [j for j, name in enumerate(self.feature_names_) if name not in self.categories_]
        matrix[:, numeric] = _as_float(X[[self.feature_names_[j] for j in numeric]])
        for name, value in getattr(self, "fill_", {}).items():
            j = self.feature_names_.index(name)
            matrix[np.isnan(matrix[:, j]), j] = value
        for j in self.categorical_indices_:
            name = self.feature_names_[j]
            values = X[name].astype("string")
            codes = pd.Index(self.categories_[name]).get_indexer(values).astype(np.float64)
            codes[values.isna().to_numpy()] = np.nan  # missing; -1 stays: a category not seen in training
            matrix[:, j] = codes
        return matrix

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_")
        return np.asarray(self.feature_names_, dtype=object)


def _as_float(frame: pd.DataFrame) -> np.ndarray:
    """Numeric columns as float64 (missing as NaN); text that is not a number becomes NaN too."""
    try:
        return frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        return frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _unusable(X: pd.DataFrame, name: str) -> str | None:
    if name not in X.columns:
        return "absent from the training table"
    column = X[name]
    if column.isna().all():
        return "missing in every training row"
    if column.nunique(dropna=False) < 2:
        return f"one value only in the training rows ({column.iloc[0]!r})"
    return None
