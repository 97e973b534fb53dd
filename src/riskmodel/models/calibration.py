"""Probability calibration of a raw log-odds score: Platt scaling or isotonic regression."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

METHODS = ("platt", "isotonic")
EPS = 1e-6  # probabilities are kept within [EPS, 1 - EPS] so log loss stays finite


class ScoreCalibrator(BaseEstimator):
    """Map a raw score to a calibrated probability, fitted on a slice the model did not train on.

    With ``method="auto"`` both methods are compared by cross-validated log loss on the
    calibration rows (stratified folds) and the better one is refitted on all of them;
    Platt scaling is used when there are too few positive or negative rows to cross-validate.
    Isotonic steps are kept within [0.5 / n, 1 - 0.5 / n] for n calibration rows, so an
    empty bottom bin does not give a PD of zero.

    Attributes
    ----------
    method_ : str
        ``"platt"`` or ``"isotonic"``.
    cv_log_loss_ : dict of str to float
        Cross-validated log loss of each method (empty when not compared).
    """

    def __init__(self, method: str = "auto", n_folds: int = 5, random_state: int = 0) -> None:
        self.method = method
        self.n_folds = n_folds
        self.random_state = random_state

    def fit(self, raw: np.ndarray, y: np.ndarray) -> ScoreCalibrator:
        if self.method not in (*METHODS, "auto"):
            raise ValueError(f"method must be 'auto' or one of {METHODS}; got {self.method!r}")
        raw, y = np.asarray(raw, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if len(np.unique(y)) < 2:
            raise ValueError(
                f"calibration needs positive and negative rows; got only {np.unique(y).tolist()}"
            )
        self.cv_log_loss_: dict[str, float] = {}
        method = self.method
        if method == "auto":
            self.cv_log_loss_ = self._compare(raw, y)
            method = min(self.cv_log_loss_, key=self.cv_log_loss_.get) if self.cv_log_loss_ else "platt"
        self.method_ = method
        self.mapping_ = _fit_method(method, raw, y)
        return self

    def _compare(self, raw: np.ndarray, y: np.ndarray) -> dict[str, float]:
        n_splits = int(min(self.n_folds, y.sum(), (1 - y).sum()))
        if n_splits < 2:
            return {}
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
        losses = dict.fromkeys(METHODS, 0.0)
        for fit_rows, test_rows in folds.split(raw.reshape(-1, 1), y):
            for method in METHODS:
                p = _apply(_fit_method(method, raw[fit_rows], y[fit_rows]), raw[test_rows])
                losses[method] += -np.sum(y[test_rows] * np.log(p) + (1 - y[test_rows]) * np.log(1 - p))
        return {method: loss / len(y) for method, loss in losses.items()}

    def predict(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probability of each raw score, shape (n_rows,)."""
        check_is_fitted(self, "mapping_")
        return _apply(self.mapping_, np.asarray(raw, dtype=np.float64))


def _fit_method(
    method: str, raw: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | tuple[float, float]:
    """Platt: (slope, intercept) of the logistic map; isotonic: its step function's (x, y) knots."""
    if method == "platt":
        regression = LogisticRegression(C=1e6, solver="newton-cholesky", max_iter=200).fit(
            raw.reshape(-1, 1), y
        )
        return float(regression.coef_[0, 0]), float(regression.intercept_[0])
    half_event = 0.5 / len(y)  # no step below (or above) what half a case among the calibration rows implies
    isotonic = IsotonicRegression(y_min=half_event, y_max=1 - half_event, out_of_bounds="clip").fit(raw, y)
    return isotonic.X_thresholds_, isotonic.y_thresholds_


def _apply(mapping: tuple[np.ndarray, np.ndarray] | tuple[float, float], raw: np.ndarray) -> np.ndarray:
    first, second = mapping
    if isinstance(first, float):
        p = 1.0 / (1.0 + np.exp(-(first * raw + second)))
    else:
        p = np.interp(raw, first, second)  # isotonic regression's prediction, clipped at the ends
    return np.clip(p, EPS, 1 - EPS)
