"""Fallback master scale, used until the policy configuration's master scale is wired in."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

GradeFunction = Callable[[np.ndarray], np.ndarray]

# Upper 12-month PD bound of grades 1..9 (grade 10 above): log-spaced, doubling from 0.1 %.
FALLBACK_UPPER_PD: tuple[float, ...] = (0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256)


def fallback_grade(pd_12m: np.ndarray) -> np.ndarray:
    """Grade 1 (best) .. 10 (worst) of each PD on :data:`FALLBACK_UPPER_PD` (a bound belongs to its grade).

    Examples
    --------
    >>> fallback_grade(np.array([0.0, 0.001, 0.0011, 0.5])).tolist()
    [1, 1, 2, 10]
    """
    return np.searchsorted(np.asarray(FALLBACK_UPPER_PD), np.asarray(pd_12m, dtype=float), side="left") + 1
