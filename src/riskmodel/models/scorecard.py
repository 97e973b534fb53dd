"""Transparent baseline: a logistic-regression scorecard on quantile-binned, WoE-encoded features."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

SMOOTHING = 0.5  # pseudo-count per bin and class, so empty cells give a finite weight of evidence
MIN_BIN_ROWS = 20  # a bin with fewer training rows gets WoE 0 (neutral): too little support to learn from


class BinnedScorecard(ClassifierMixin, BaseEstimator):
    """Logistic regression on the weight of evidence (WoE) of binned features.

    Each numeric column is cut at up to ``n_bins`` quantiles of its training values, with
    missing values in a bin of their own; each categorical column (integer codes) has one
    bin per code, and codes not seen in training one more. A bin with fewer than
    ``MIN_BIN_ROWS`` training rows (missing values never seen, an unseen category) has WoE 0:
    it is scored as neutral, not by what the smoothing alone would say. A bin's WoE is the log-odds of a positive in it minus the overall
    log-odds, so each term ``coef_j * woe_j`` is that feature's contribution to the score.

    Parameters
    ----------
    n_bins : int
        Quantile bins per numeric column (fewer when values repeat).
    C : float
        Inverse L2 penalty of the logistic regression.
    categorical : tuple of int
        Indices of integer-coded categorical columns.

    Attributes
    ----------
    edges_ : list of ndarray
        Inner bin edges of each column (the codes themselves for categorical columns).
    woe_ : list of ndarray
        WoE of each bin; then the missing-value bin, then the unseen-category bin (always 0).
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    """

    def __init__(self, n_bins: int = 5, C: float = 0.1, categorical: tuple[int, ...] = ()) -> None:
        self.n_bins = n_bins
        self.C = C
        self.categorical = categorical

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> BinnedScorecard:
        y = np.asarray(y, dtype=np.float64)
        if len(np.unique(y)) < 2:
            raise ValueError(f"BinnedScorecard needs both classes in y; got only {np.unique(y).tolist()}")
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.edges_ = [self._edges(X[:, j], j in self.categorical) for j in range(X.shape[1])]
        self.woe_ = [
            self._woe(self._bin(X[:, j], j), y, weight, len(self.edges_[j]) + 3) for j in range(X.shape[1])
        ]
        regression = LogisticRegression(C=self.C, solver="newton-cholesky", max_iter=200)
        regression.fit(self.transform_woe(X), y, sample_weight=weight)
        self.coef_ = regression.coef_[0].copy()
        self.intercept_ = float(regression.intercept_[0])
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        return self

    def _edges(self, column: np.ndarray, categorical: bool) -> np.ndarray:
        present = column[~np.isnan(column)]
        if categorical:
            return np.unique(present)
        quantiles = np.linspace(0, 1, self.n_bins + 1)[1:-1]
        return np.unique(np.quantile(present, quantiles)) if len(present) else np.array([])

    def _bin(self, column: np.ndarray, j: int) -> np.ndarray:
        """Bin index of each value: 0..len(edges) for values, len(edges) + 1 for missing, + 2 for unseen codes."""
        edges = self.edges_[j]
        missing_bin = len(edges) + 1
        if j in self.categorical:
            position = np.searchsorted(edges, column)
            found = (
                (position < len(edges)) & (edges[np.minimum(position, len(edges) - 1)] == column)
                if len(edges)
                else np.zeros(len(column), bool)
            )
            return np.where(found, position, np.where(np.isnan(column), missing_bin, missing_bin + 1))
        return np.where(np.isnan(column), missing_bin, np.searchsorted(edges, column, side="right"))

    @staticmethod
    def _woe(bins: np.ndarray, y: np.ndarray, weight: np.ndarray, n_bins: int) -> np.ndarray:
        positives = np.bincount(bins, weights=weight * y, minlength=n_bins) + SMOOTHING
        negatives = np.bincount(bins, weights=weight * (1 - y), minlength=n_bins) + SMOOTHING
        woe = np.log(positives / positives.sum()) - np.log(negatives / negatives.sum())
        return np.where(np.bincount(bins, minlength=n_bins) >= MIN_BIN_ROWS, woe, 0.0)

    def transform_woe(self, X: np.ndarray) -> np.ndarray:
        """WoE of each value, shape (n_rows, n_features)."""
        check_is_fitted(self, "woe_")
        return (
            np.column_stack([_lookup(self.woe_[j], self._bin(X[:, j], j)) for j in range(X.shape[1])])
            if X.shape[1]
            else np.empty((len(X), 0))
        )

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Linear terms ``coef_j * woe_j`` (n_rows, n_features) and the intercept (n_rows,)."""
        check_is_fitted(self, "coef_")
        return self.transform_woe(X) * self.coef_, np.full(len(X), self.intercept_)

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        """Log-odds score of each row, shape (n_rows,)."""
        terms, base = self.contributions(X)
        return terms.sum(axis=1) + base

    def importance(self) -> np.ndarray:
        """Spread of each feature's term: |coef| times the range of its WoE."""
        check_is_fitted(self, "coef_")
        return np.abs(self.coef_) * np.array([np.ptp(w) for w in self.woe_])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated probabilities of shape (n_rows, 2)."""
        p = 1.0 / (1.0 + np.exp(-self.raw_score(X)))
        return np.column_stack([1 - p, p])


def _lookup(woe: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """WoE of each bin index; 0 past the end (models saved before the unseen-category bin existed)."""
    return np.where(bins < len(woe), woe[np.minimum(bins, len(woe) - 1)], 0.0)
