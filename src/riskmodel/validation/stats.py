"""Statistics a model validator asks for: bootstrap intervals and binomial tests by grade."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import binomtest

from riskmodel.models.metrics import auc, grade_table, ks
from riskmodel.policy.grades import GradeFunction


class RankedScores:
    """AUC and KS of bootstrap resamples, given as row multiplicities, over one sort of the scores.

    Equal to :func:`~riskmodel.models.metrics.auc` and :func:`~riskmodel.models.metrics.ks` on
    the resampled rows (ties count half), at O(n) a resample instead of a sort.
    """

    def __init__(self, y: np.ndarray, p: np.ndarray) -> None:
        self.y = np.asarray(y, dtype=float)
        _, self.tie_group = np.unique(np.asarray(p, dtype=float), return_inverse=True)
        self.n_groups = int(self.tie_group.max()) + 1 if len(self.y) else 0

    def auc_ks(self, weights: np.ndarray) -> tuple[float, float]:
        """(AUC, KS) of the sample holding row ``i`` ``weights[i]`` times."""
        positive = np.bincount(self.tie_group, weights * self.y, self.n_groups)
        negative = np.bincount(self.tie_group, weights * (1 - self.y), self.n_groups)
        n_positive, n_negative = positive.sum(), negative.sum()
        if n_positive == 0 or n_negative == 0:
            return float("nan"), float("nan")
        negative_below = np.cumsum(negative) - negative
        auc_value = float(np.sum(positive * (negative_below + 0.5 * negative)) / (n_positive * n_negative))
        tpr = np.cumsum(positive[::-1]) / n_positive  # share of positives scored at or above each value
        fpr = np.cumsum(negative[::-1]) / n_negative
        return auc_value, float(max(0.0, np.max(tpr - fpr)))


def discrimination_table(
    y: np.ndarray,
    p: np.ndarray,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> pd.DataFrame:
    """AUC, Gini and KS with percentile bootstrap intervals.

    With ``groups`` (the customer of each row) the bootstrap draws whole customers, since
    rows of one customer are not independent. Without, it resamples rows within each
    outcome, which keeps both classes (and their counts) in every resample. Gini's
    interval is AUC's mapped through 2 AUC - 1.

    Returns
    -------
    pd.DataFrame
        ``measure, estimate, lower, upper`` with one row per measure.

    Examples
    --------
    >>> y = np.array([0, 0, 0, 1, 1]); p = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    >>> discrimination_table(y, p, n_resamples=50)["lower"].tolist()
    [1.0, 1.0, 1.0]
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    ranked, rng = RankedScores(y, p), np.random.default_rng(seed)
    if groups is not None:
        samples = np.array([ranked.auc_ks(w) for w in cluster_resamples(groups, n_resamples, seed)]).reshape(
            -1, 2
        )
    else:
        samples = np.array([ranked.auc_ks(_resample_within_outcome(y, rng)) for _ in range(n_resamples)])
    tail = (1 - level) / 2
    (auc_low, ks_low), (auc_high, ks_high) = np.nanquantile(samples, [tail, 1 - tail], axis=0)
    estimate = auc(y, p)
    return pd.DataFrame(
        {
            "measure": ["AUC", "Gini", "KS"],
            "estimate": [estimate, 2 * estimate - 1, ks(y, p)],
            "lower": [auc_low, 2 * auc_low - 1, ks_low],
            "upper": [auc_high, 2 * auc_high - 1, ks_high],
        }
    )


def mean_auc_interval(
    holdouts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean AUC over several hold-outs of one data set, with a percentile bootstrap interval.

    ``holdouts`` holds ``(row_ids, y, p)`` for each hold-out, ``row_ids`` naming rows of the
    data set. Each resample draws the rows of all hold-outs together with replacement, within
    each outcome (as :func:`discrimination_table` does), and every hold-out counts each of its
    rows as often as that row was drawn, so a row held out by several splits moves them
    together. The interval covers the sampling of the hold-out rows, not the variation of
    the fits.

    Returns
    -------
    tuple of float
        ``(mean AUC, lower, upper)``.

    Examples
    --------
    >>> ids = np.arange(6); y = np.array([0, 0, 0, 1, 1, 1]); p = np.arange(6) / 6
    >>> mean_auc_interval([(ids, y, p), (ids[1:], y[1:], p[1:])], n_resamples=20)
    (1.0, 1.0, 1.0)
    """
    if not holdouts:
        raise ValueError("mean_auc_interval needs at least one hold-out; got none")
    ids, position = np.unique(np.concatenate([np.asarray(h[0]) for h in holdouts]), return_inverse=True)
    y_all = np.zeros(len(ids))
    y_all[position] = np.concatenate([np.asarray(h[1], dtype=float) for h in holdouts])
    starts = np.cumsum([0, *(len(h[0]) for h in holdouts)])
    rows = [position[start:end] for start, end in zip(starts[:-1], starts[1:], strict=True)]
    ranked = [RankedScores(y, p) for _, y, p in holdouts]
    rng = np.random.default_rng(seed)
    samples = np.empty(n_resamples)
    for i in range(n_resamples):
        counts = _resample_within_outcome(y_all, rng)
        samples[i] = np.mean([r.auc_ks(counts[at])[0] for r, at in zip(ranked, rows, strict=True)])
    tail = (1 - level) / 2
    lower, upper = np.nanquantile(samples, [tail, 1 - tail])
    estimate = float(np.mean([auc(y, p) for _, y, p in holdouts]))
    return estimate, float(lower), float(upper)


def _resample_within_outcome(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """How often each row is drawn when the rows of each outcome are resampled with replacement."""
    weights = np.zeros(len(y))
    for outcome in (0.0, 1.0):
        rows = np.flatnonzero(y == outcome)
        weights[rows] = np.bincount(rng.integers(0, len(rows), len(rows)), minlength=len(rows))
    return weights


def grade_calibration(
    y: np.ndarray, p: np.ndarray, grade_of: GradeFunction, alpha: float = 0.05
) -> pd.DataFrame:
    """Expected against observed events by grade, with an exact binomial test per grade and in total.

    The test asks whether ``observed`` events among ``n`` are consistent with the grade's mean
    PD; it treats outcomes as independent, so with correlated defaults it rejects too often.

    Returns
    -------
    pd.DataFrame
        :func:`~riskmodel.models.metrics.grade_table` columns plus ``observed_low, observed_high``
        (Clopper-Pearson interval of the observed rate), ``p_value`` (two-sided) and ``result``
        (``in line``, ``more events than predicted`` or ``fewer events than predicted`` at ``alpha``);
        the last row, grade ``all``, tests the whole slice.
    """
    table = grade_table(y, p, grade_of)
    total = pd.DataFrame(
        {
            "grade": ["all"],
            "n": [len(y)],
            "expected_rate": [float(np.mean(p))],
            "observed_rate": [float(np.mean(y))],
            "expected": [float(np.sum(p))],
            "observed": [float(np.sum(y))],
        }
    )
    table = pd.concat([table.astype({"grade": object}), total], ignore_index=True).astype({"observed": int})
    tests = [
        binomtest(int(row.observed), int(row.n), min(max(row.expected_rate, 1e-12), 1 - 1e-12))
        for row in table.itertuples()
    ]
    intervals = [test.proportion_ci(method="exact") for test in tests]
    table["observed_low"] = [ci.low for ci in intervals]
    table["observed_high"] = [ci.high for ci in intervals]
    table["p_value"] = [test.pvalue for test in tests]
    table["result"] = [
        "in line"
        if test.pvalue >= alpha
        else ("more events than predicted" if row.observed > row.expected else "fewer events than predicted")
        for test, row in zip(tests, table.itertuples(), strict=True)
    ]
    return table


def cluster_resamples(groups: np.ndarray, n_resamples: int, seed: int = 0) -> Iterator[np.ndarray]:
    """Row multiplicities of ``n_resamples`` bootstrap resamples that draw whole groups (customers).

    Rows of one customer move together: monthly snapshots of a customer are not
    independent, so resampling rows would make intervals too narrow.
    """
    codes = np.unique(np.asarray(groups), return_inverse=True)[1]
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    rng = np.random.default_rng(seed)
    for _ in range(n_resamples):
        counts = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
        yield counts[codes].astype(float)


def weighted_calibration_slope(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> float:
    """Slope ``b`` of ``logit P(y) = a + b logit(p)`` with row weights (Newton's method), NaN with one class."""
    y, w = np.asarray(y, dtype=float), np.asarray(weights, dtype=float)
    if w[y == 1].sum() == 0 or w[y == 0].sum() == 0:
        return float("nan")
    z = np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))
    X = np.column_stack([np.ones_like(z), z])
    beta = np.array([0.0, 1.0])
    for _ in range(50):
        q = expit(X @ beta)
        gradient = X.T @ (w * (y - q))
        hessian = (X * (w * q * (1 - q))[:, None]).T @ X + 1e-9 * np.eye(2)
        step = np.clip(np.linalg.solve(hessian, gradient), -5, 5)  # damped: separable resamples diverge
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            return float(beta[1])
    return float("nan")  # no convergence (the resample separates the outcomes)


def clustered_intervals(
    y: np.ndarray,
    p: np.ndarray,
    groups: np.ndarray,
    n_resamples: int = 300,
    level: float = 0.9,
    seed: int = 0,
) -> dict[str, float]:
    """Customer-clustered percentile intervals of AUC and calibration slope.

    Returns ``auc_ci_low``, ``auc_ci_high``, ``calibration_slope_ci_low`` and
    ``calibration_slope_ci_high`` (NaN when a class is missing).
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    ranked = RankedScores(y, p)
    samples = np.array(
        [
            (ranked.auc_ks(weights)[0], weighted_calibration_slope(y, p, weights))
            for weights in cluster_resamples(groups, n_resamples, seed)
        ]
    ).reshape(-1, 2)
    tail = (1 - level) / 2
    if len(np.unique(y)) < 2 or np.isnan(samples).all():
        return dict.fromkeys(
            ("auc_ci_low", "auc_ci_high", "calibration_slope_ci_low", "calibration_slope_ci_high"),
            float("nan"),
        )
    (auc_low, slope_low), (auc_high, slope_high) = np.nanquantile(samples, [tail, 1 - tail], axis=0)
    return {
        "auc_ci_low": float(auc_low),
        "auc_ci_high": float(auc_high),
        "calibration_slope_ci_low": float(slope_low),
        "calibration_slope_ci_high": float(slope_high),
    }
