"""A fitted binary head: a scorer (GBM, scorecard or observed rate) and its calibrator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskmodel.models.calibration import ScoreCalibrator
from riskmodel.models.gbm import MonotoneGBM
from riskmodel.models.scorecard import BinnedScorecard
from riskmodel.models.specs import Target


class ObservedRate:
    """Constant score at the smoothed training rate, for a target with too few events to model.

    Its probability is the rate itself, and every feature contributes zero.
    """

    def __init__(self, n_positive: float, n_rows: float) -> None:
        self.rate = (n_positive + 0.5) / (n_rows + 1.0)

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), np.log(self.rate / (1 - self.rate)))

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(X.shape), self.raw_score(X)

    def importance(self) -> np.ndarray:
        return np.zeros(0)


Scorer = MonotoneGBM | BinnedScorecard | ObservedRate
KIND_OF = {MonotoneGBM: "gbm", BinnedScorecard: "scorecard", ObservedRate: "observed_rate"}


@dataclass
class Head:
    """One binary target of a model: raw log-odds from ``scorer``, probability from ``calibrator``."""

    target: Target
    scorer: Scorer
    calibrator: ScoreCalibrator | None = None

    @property
    def kind(self) -> str:
        return KIND_OF[type(self.scorer)]

    def raw_score(self, matrix: np.ndarray) -> np.ndarray:
        return self.scorer.raw_score(matrix)

    def probability(self, matrix: np.ndarray) -> np.ndarray:
        """Calibrated probability of each row, shape (n_rows,)."""
        raw = self.raw_score(matrix)
        if self.calibrator is None:
            return 1.0 / (1.0 + np.exp(-raw))
        return self.calibrator.predict(raw)

    def contributions(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.scorer.contributions(matrix)
