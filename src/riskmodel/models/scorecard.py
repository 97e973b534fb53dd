"""Transparent baseline: a logistic-regression scorecard on quantile-binned, WoE-encoded features."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
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
    monotone : tuple of int
        Risk direction of each column (+1: higher values never lower the score, -1: never
        raise it, 0: free), as the GBM's monotone constraints. A directed column's WoE is
        made monotone across its value bins (isotonic, weighted by rows) and its
        coefficient kept non-negative (a column whose coefficient comes out negative is
        left out and the regression refitted), so the whole score follows the direction.

    Attributes
    ----------
    edges_ : list of ndarray
        Inner bin edges of each column (the codes themselves for categorical columns).
    woe_ : list of ndarray
        WoE of each bin; then the missing-value bin, then the unseen-category bin (always 0).
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    """

    def __init__(
        self,
        n_bins: int = 5,
        C: float = 0.1,
        categorical: tuple[int, ...] = (),
        monotone: tuple[int, ...] = (),
    ) -> None:
        self.n_bins = n_bins
        self.C = C
        self.categorical = categorical
        self.monotone = monotone

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> BinnedScorecard:
        y = np.asarray(y, dtype=np.float64)
        if len(np.unique(y)) < 2:
            raise ValueError(f"BinnedScorecard needs both classes in y; got only {np.unique(y).tolist()}")
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.edges_ = [self._edges(X[:, j], j in self.categorical) for j in range(X.shape[1])]
        direction = np.asarray(self.monotone or [0] * X.shape[1])
        if len(direction) != X.shape[1]:
            raise ValueError(f"monotone has {len(direction)} entries for {X.shape[1]} columns")
        self.woe_ = []
        for j in range(X.shape[1]):
            bins = self._bin(X[:, j], j)
            woe = self._woe(bins, y, weight, len(self.edges_[j]) + 3)
            if direction[j] and j not in self.categorical:
                woe = _monotone_woe(woe, bins, len(self.edges_[j]) + 1, direction[j])
            self.woe_.append(woe)
        woe_matrix = self.transform_woe(X)
        kept = np.ones(X.shape[1], dtype=bool)
        while True:
            regression = LogisticRegression(C=self.C, solver="newton-cholesky", max_iter=200)
            regression.fit(woe_matrix * kept, y, sample_weight=weight)
            wrong = kept & (direction != 0) & (regression.coef_[0] < 0)
            if not wrong.any():
                break
            kept &= ~wrong
        self.coef_ = regression.coef_[0] * kept
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


def _monotone_woe(woe: np.ndarray, bins: np.ndarray, n_value_bins: int, direction: int) -> np.ndarray:
    """``woe`` with its first ``n_value_bins`` (the ordered value bins) made monotone in ``direction``.

    Fitted on the bins with enough rows to learn from, weighted by rows; smaller value bins
    take the fitted value at their place. Missing and unseen bins are unchanged.
    """
    rows = np.bincount(bins, minlength=len(woe))[:n_value_bins].astype(float)
    supported = rows >= MIN_BIN_ROWS
    if supported.sum() < 2:
        return woe
    fitted = IsotonicRegression(increasing=direction > 0, out_of_bounds="clip").fit(
        np.arange(n_value_bins)[supported], woe[:n_value_bins][supported], sample_weight=rows[supported]
    )
    out = woe.copy()
    out[:n_value_bins] = fitted.predict(np.arange(n_value_bins))
    return out


def _lookup(woe: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """WoE of each bin index; 0 past the end (models saved before the unseen-category bin existed)."""
    return np.where(bins < len(woe), woe[np.minimum(bins, len(woe) - 1)], 0.0)
