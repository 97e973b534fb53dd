"""Probability calibration of a raw log-odds score: Platt scaling or a smoothed isotonic map.

The isotonic map is fitted on quantile bins of the raw score and interpolated linearly in
log-odds between the pooled blocks, so the calibrated PD stays strictly increasing in the
score: a plain isotonic step function on a few hundred positives leaves about 15 distinct
PDs, empties grades of the master scale and makes month-to-month PDs jump across grades.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.utils.validation import check_is_fitted

METHODS = ("platt", "isotonic")
EPS = 1e-6  # probabilities are kept within [EPS, 1 - EPS] so log loss stays finite

Mapping = tuple[float, float] | tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, float]


class ScoreCalibrator(BaseEstimator):
    """Map a raw score to a calibrated probability, fitted on a slice the model did not train on.

    With ``method="auto"`` both methods are compared by cross-validated log loss on the
    calibration rows; folds are grouped by ``groups`` (e.g. the customer of monthly
    snapshots, which are not independent) and stratified by outcome. Isotonic is chosen
    only when its mean log loss per row is lower than Platt's by at least ``min_gain``
    and it keeps at least ``min_distinct`` distinct probabilities over the calibration
    rows; otherwise Platt scaling, which is also used when there are too few positive or
    negative rows (or groups) to cross-validate.

    Parameters
    ----------
    method : {"auto", "platt", "isotonic"}
    n_folds : int
        Cross-validation folds of the comparison.
    min_gain : float
        Log-loss improvement per row (nats) isotonic needs over Platt to be chosen.
    min_distinct : int
        Distinct calibrated probabilities over the calibration rows isotonic needs.
    n_bins : int
        Quantile bins of the raw score the isotonic map is fitted on.
    random_state : int

    Attributes
    ----------
    method_ : str
        ``"platt"`` or ``"isotonic"``.
    reason_ : str
        Why ``method_`` was used (for the MLflow tags and the model card).
    cv_log_loss_ : dict of str to float
        Cross-validated log loss of each method (empty when not compared).
    n_distinct_ : int
        Distinct calibrated probabilities over the calibration rows.
    """

    def __init__(
        self,
        method: str = "auto",
        n_folds: int = 5,
        min_gain: float = 0.001,
        min_distinct: int = 30,
        n_bins: int = 20,
        random_state: int = 0,
    ) -> None:
        self.method = method
        self.n_folds = n_folds
        self.min_gain = min_gain
        self.min_distinct = min_distinct
        self.n_bins = n_bins
        self.random_state = random_state

    def fit(self, raw: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> ScoreCalibrator:
        """Fit on raw scores ``raw`` and outcomes ``y``; ``groups`` (optional) keep rows of one group in one fold."""
        if self.method not in (*METHODS, "auto"):
            raise ValueError(f"method must be 'auto' or one of {METHODS}; got {self.method!r}")
        raw, y = np.asarray(raw, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if len(np.unique(y)) < 2:
            raise ValueError(
                f"calibration needs positive and negative rows; got only {np.unique(y).tolist()}"
            )
        self.cv_log_loss_: dict[str, float] = {}
        mappings = _fit_methods(raw, y, self.n_bins)
        if self.method == "auto":
            self.cv_log_loss_ = self._compare(raw, y, groups)
            method, reason = self._choose(raw, mappings["isotonic"])
        else:
            method, reason = self.method, f"{self.method} set"
        self.method_, self.reason_ = method, reason
        self.mapping_ = mappings[method]
        self.n_distinct_ = int(len(np.unique(_apply(self.mapping_, raw))))
        return self

    def _compare(self, raw: np.ndarray, y: np.ndarray, groups: np.ndarray | None) -> dict[str, float]:
        if groups is None:
            n_splits = int(min(self.n_folds, y.sum(), (1 - y).sum()))
            folds = StratifiedKFold(n_splits=max(n_splits, 2), shuffle=True, random_state=self.random_state)
        else:
            groups = np.asarray(groups)
            n_splits = int(min(self.n_folds, len(np.unique(groups[y == 1])), len(np.unique(groups[y == 0]))))
            folds = StratifiedGroupKFold(
                n_splits=max(n_splits, 2), shuffle=True, random_state=self.random_state
            )
        if n_splits < 2:
            return {}
        losses = dict.fromkeys(METHODS, 0.0)
        for fit_rows, test_rows in folds.split(raw.reshape(-1, 1), y, groups):
            if len(np.unique(y[fit_rows])) < 2:
                return {}
            for method, mapping in _fit_methods(raw[fit_rows], y[fit_rows], self.n_bins).items():
                p = _apply(mapping, raw[test_rows])
                losses[method] += -np.sum(y[test_rows] * np.log(p) + (1 - y[test_rows]) * np.log(1 - p))
        return {method: loss / len(y) for method, loss in losses.items()}

    def _choose(self, raw: np.ndarray, isotonic: Mapping) -> tuple[str, str]:
        losses = self.cv_log_loss_
        if not losses:
            return "platt", "platt: too few positive or negative rows (groups) to compare by cross-validation"
        gain = losses["platt"] - losses["isotonic"]
        compared = f"log loss platt {losses['platt']:.5f}, isotonic {losses['isotonic']:.5f}"
        if gain < self.min_gain:
            return "platt", f"platt: isotonic gains {gain:.5f} < {self.min_gain} ({compared})"
        distinct = len(np.unique(_apply(isotonic, raw)))
        if distinct < self.min_distinct:
            return (
                "platt",
                f"platt: isotonic keeps {distinct} distinct PDs < {self.min_distinct} ({compared})",
            )
        return (
            "isotonic",
            f"isotonic: gains {gain:.5f} >= {self.min_gain}, {distinct} distinct PDs ({compared})",
        )

    def predict(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probability of each raw score, shape (n_rows,)."""
        check_is_fitted(self, "mapping_")
        return _apply(self.mapping_, np.asarray(raw, dtype=np.float64))


def strictly_increasing(calibrator: ScoreCalibrator, raw: np.ndarray) -> bool:
    """Whether the calibrated probability rises strictly between every two distinct scores of ``raw``."""
    p = calibrator.predict(np.unique(np.asarray(raw, dtype=np.float64)))
    return bool(np.all(np.diff(p) > 0))


def _fit_methods(raw: np.ndarray, y: np.ndarray, n_bins: int) -> dict[str, Mapping]:
    """Both maps from one Platt fit: platt (slope, intercept); isotonic log-odds knots with Platt's tail slope."""
    slope, intercept = _platt(raw, y)
    return {"platt": (slope, intercept), "isotonic": _smoothed_isotonic(raw, y, n_bins, slope)}


def _platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    regression = LogisticRegression(C=1e6, solver="newton-cholesky", max_iter=200).fit(raw.reshape(-1, 1), y)
    return float(regression.coef_[0, 0]), float(regression.intercept_[0])


def _smoothed_isotonic(
    raw: np.ndarray, y: np.ndarray, n_bins: int, tail_slope: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Isotonic regression on quantile bins; one knot per pooled block at its mean score and rate.

    Between knots the log-odds are linear, beyond them they follow ``tail_slope`` (Platt's,
    floored at a small positive slope), so the map is strictly increasing everywhere.
    """
    order = np.argsort(raw, kind="stable")
    bins = np.array_split(order, min(n_bins, len(raw)))
    x = np.array([raw[b].mean() for b in bins])
    rate = np.array([y[b].mean() for b in bins])
    weight = np.array([len(b) for b in bins], dtype=float)
    # bins of tied scores (equal up to rounding of their means) pooled: isotonic needs distinct x
    tie = np.concatenate([[0], np.cumsum(np.diff(x) > 1e-9 * (1 + np.abs(x[1:])))])
    pooled = np.bincount(tie, weights=weight)
    x = np.bincount(tie, weights=x * weight) / pooled
    rate, weight = np.bincount(tie, weights=rate * weight) / pooled, pooled
    half_event = 0.5 / len(y)  # no knot below (or above) what half a case among the calibration rows implies
    fitted = IsotonicRegression(y_min=half_event, y_max=1 - half_event).fit_transform(
        x, rate, sample_weight=weight
    )
    knots_x, knots_p = [], []
    for value in np.unique(fitted):
        block = fitted == value
        knots_x.append(np.average(x[block], weights=weight[block]))
        knots_p.append(value)
    knots_x, knots_p = np.asarray(knots_x), np.clip(np.asarray(knots_p), EPS, 1 - EPS)
    keep = np.concatenate([[True], np.diff(knots_x) > 0])
    return knots_x[keep], np.log(knots_p[keep] / (1 - knots_p[keep])), max(tail_slope, 1e-3)


def _apply(mapping: Mapping, raw: np.ndarray) -> np.ndarray:
    if len(mapping) == 3:
        knots_x, knots_logit, slope = mapping
        logit = np.interp(raw, knots_x, knots_logit)
        logit = np.where(raw < knots_x[0], knots_logit[0] + slope * (raw - knots_x[0]), logit)
        logit = np.where(raw > knots_x[-1], knots_logit[-1] + slope * (raw - knots_x[-1]), logit)
    elif isinstance(mapping[0], float):
        slope, intercept = mapping
        logit = slope * raw + intercept
    else:  # isotonic step function of models fitted before the smoothed map
        return np.clip(np.interp(raw, *mapping), EPS, 1 - EPS)
    return EPS + (1 - 2 * EPS) * expit(logit)  # squeezed, not clipped: extreme scores keep their order
