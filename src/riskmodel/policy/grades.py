"""Master scale: 12-month PD to risk grade 1 (best) … 10 (worst)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

GradeFunction = Callable[[np.ndarray], np.ndarray]
"""PDs to grades 1..10, e.g. :meth:`riskmodel.policy.Policy.grade` (the policy's master scale)."""


def grade_from_pd(pd_12m: float | npt.ArrayLike, upper_pd: Sequence[float]) -> int | np.ndarray:
    """Risk grade of each PD: the first band whose upper bound is at or above it.

    A PD equal to a band's upper bound belongs to that band. Scalars give an ``int``,
    arrays an integer array of the same shape.

    Examples
    --------
    >>> bounds = (0.01, 0.05, 0.2, 1.0)
    >>> grade_from_pd(0.01, bounds), grade_from_pd(0.0100001, bounds)
    (1, 2)
    >>> grade_from_pd([0.0, 0.3, 1.0], bounds).tolist()
    [1, 4, 4]
    """
    values = np.asarray(pd_12m, dtype=float)
    invalid = np.isnan(values) | (values < 0) | (values > 1)
    if invalid.any():
        first = values[invalid].flat[0] if values.ndim else float(values)
        raise ValueError(
            f"pd_12m must be a probability within [0, 1]; got {first!r} ({int(invalid.sum())} invalid values)"
        )
    grades = np.searchsorted(np.asarray(upper_pd, dtype=float), values, side="left") + 1
    return int(grades) if values.ndim == 0 else grades.astype(np.int64)


def central_pd(grade: int, upper_pd: Sequence[float]) -> float:
    """The PD a grade stands for: the geometric mean of its band's bounds (grade 1's lower bound is half its upper).

    Used where a grade comes from rules rather than a model, so that the answer still carries
    a PD that falls in the grade's own band.

    Examples
    --------
    >>> bounds = (0.01, 0.04, 1.0)
    >>> round(central_pd(1, bounds), 5), round(central_pd(2, bounds), 5), round(central_pd(3, bounds), 5)
    (0.00707, 0.02, 0.2)
    """
    if not 1 <= grade <= len(upper_pd):
        raise ValueError(f"grade must be within 1..{len(upper_pd)}; got {grade!r}")
    upper = float(upper_pd[grade - 1])
    lower = float(upper_pd[grade - 2]) if grade > 1 else upper / 2
    return float(np.sqrt(lower * upper))
