"""Discrimination, calibration and stability measures of a probability score.

All functions take outcomes ``y`` in {0, 1} and probabilities ``p`` of the same length; the
rank measures are NaN when ``y`` holds only one class.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

from riskmodel.validation.drift import psi

EPS = 1e-6


def _both_classes(y: np.ndarray) -> bool:
    return len(np.unique(y)) == 2


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (ties count half)."""
    y = np.asarray(y)
    return float(roc_auc_score(y, p)) if _both_classes(y) else float("nan")


def gini(y: np.ndarray, p: np.ndarray) -> float:
    """Gini coefficient (accuracy ratio) = 2 AUC - 1."""
    return 2 * auc(y, p) - 1


def ks(y: np.ndarray, p: np.ndarray) -> float:
    """Kolmogorov-Smirnov statistic: largest gap between the score distributions of positives and negatives."""
    y = np.asarray(y)
    if not _both_classes(y):
        return float("nan")
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared error of the probabilities."""
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y, dtype=float)) ** 2))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Mean negative log-likelihood (probabilities clipped to [1e-6, 1 - 1e-6])."""
    y, p = np.asarray(y, dtype=float), np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def calibration_slope_intercept(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Calibration slope and calibration-in-the-large of ``p`` on outcomes ``y``.

    The slope is ``b`` of the logistic fit ``logit P(y) = a + b logit(p)`` (1 when the
    spread is right, below 1 when the scores are too extreme). The intercept is ``a`` with
    ``b`` fixed to 1 (0 when the average level is right, positive when ``p`` is too low).
    """
    y = np.asarray(y, dtype=float)
    if not _both_classes(y):
        return float("nan"), float("nan")
    z = _logit(p)
    slope = float(
        LogisticRegression(C=1e8, solver="newton-cholesky", max_iter=200).fit(z.reshape(-1, 1), y).coef_[0, 0]
    )

    def excess(a: float) -> float:
        return float(np.sum(y - 1 / (1 + np.exp(-(a + z)))))

    intercept = float(brentq(excess, -30, 30))
    return slope, intercept


def binary_metrics(y: np.ndarray, p: np.ndarray, p_reference: np.ndarray) -> dict[str, float]:
    """The validation measures of one probability score; PSI against ``p_reference`` (training scores)."""
    slope, intercept = calibration_slope_intercept(y, p)
    return {
        "auc": auc(y, p),
        "gini": gini(y, p),
        "ks": ks(y, p),
        "brier": brier(y, p),
        "log_loss": log_loss(y, p),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "psi": psi(p_reference, p),
        "n": float(len(y)),
        "n_positive": float(np.sum(y)),
        "observed_rate": float(np.mean(y)) if len(y) else float("nan"),
        "mean_p": float(np.mean(p)) if len(p) else float("nan"),
    }


def grade_table(y: np.ndarray, p: np.ndarray, grade_of: Callable[[np.ndarray], np.ndarray]) -> pd.DataFrame:
    """Expected against observed defaults by risk grade (one row per grade present)."""
    frame = pd.DataFrame(
        {"grade": np.asarray(grade_of(np.asarray(p, dtype=float))), "p": p, "y": np.asarray(y, dtype=float)}
    )
    table = frame.groupby("grade").agg(
        n=("y", "size"), expected_rate=("p", "mean"), observed_rate=("y", "mean"), observed=("y", "sum")
    )
    table["expected"] = table["expected_rate"] * table["n"]
    return table.reset_index()[["grade", "n", "expected_rate", "observed_rate", "expected", "observed"]]


def reliability_table(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Mean probability against observed rate in ``n_bins`` quantile bins of ``p``."""
    frame = pd.DataFrame({"p": np.asarray(p, dtype=float), "y": np.asarray(y, dtype=float)})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), q=min(n_bins, len(frame)), labels=False)
    return (
        frame.groupby("bin")
        .agg(n=("y", "size"), mean_p=("p", "mean"), observed_rate=("y", "mean"))
        .reset_index(drop=True)
    )
