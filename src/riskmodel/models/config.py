"""Training parameters (``training/configs/train.yaml``), parsed once into frozen dataclasses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskmodel.exceptions import TrainConfigError
from riskmodel.features.definitions import FeatureConfig
from riskmodel.yamlconfig import load_yaml_config


@dataclass(frozen=True)
class GBMParams:
    """LightGBM parameters (``gbm.*`` params in MLflow); shallow trees keep TreeSHAP fast.

    ``n_bags`` boosters with different seeds (bagging and feature sampling) are averaged
    in log-odds; 1 keeps a single booster. Early stopping ends when ``early_stopping_metric``
    (``auc`` or ``binary_logloss``) on the latest ``early_stopping_share`` of the rows has not
    improved by more than ``early_stopping_min_delta`` for ``early_stopping_rounds`` rounds.
    ``max_bin`` is the most histogram bins a feature's values fall into (LightGBM's 255 by
    default; fewer bins split on coarser thresholds).
    """

    n_estimators: int = 400
    learning_rate: float = 0.05
    num_leaves: int = 15
    max_depth: int = 4
    min_child_samples: int = 200
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 5.0
    early_stopping_rounds: int = 40
    early_stopping_share: float = 0.2
    early_stopping_min_delta: float = 0.0
    early_stopping_metric: str = "auc"
    max_bin: int = 255
    n_bags: int = 1

    def __post_init__(self) -> None:
        if self.n_bags < 1:
            raise TrainConfigError(f"gbm.n_bags must be at least 1; got {self.n_bags}")
        if self.n_estimators < 1:
            raise TrainConfigError(f"gbm.n_estimators must be at least 1; got {self.n_estimators}")
        if not 0 < self.early_stopping_share < 0.5:
            raise TrainConfigError(
                f"gbm.early_stopping_share must be within (0, 0.5); got {self.early_stopping_share}"
            )
        if self.early_stopping_metric not in ("auc", "binary_logloss"):
            raise TrainConfigError(
                f"gbm.early_stopping_metric must be 'auc' or 'binary_logloss'; got {self.early_stopping_metric!r}"
            )
        if self.max_bin < 2:
            raise TrainConfigError(f"gbm.max_bin must be at least 2; got {self.max_bin}")
        if self.early_stopping_min_delta < 0:
            raise TrainConfigError(
                f"gbm.early_stopping_min_delta must be 0 or more; got {self.early_stopping_min_delta}"
            )


@dataclass(frozen=True)
class ScorecardParams:
    """Binned logistic-regression baseline (``scorecard.*``): quantile bins, WoE, L2 penalty ``C``."""

    n_bins: int = 5
    C: float = 0.1

    def __post_init__(self) -> None:
        if self.n_bins < 2:
            raise TrainConfigError(f"scorecard.n_bins must be at least 2; got {self.n_bins}")
        if self.C <= 0:
            raise TrainConfigError(f"scorecard.C must be positive; got {self.C}")


@dataclass(frozen=True)
class CalibrationParams:
    """Choice of the calibration map (``calibration.*``), compared on ``folds`` folds grouped by customer.

    Isotonic is used only when its cross-validated log loss per row beats Platt's by at
    least ``min_log_loss_gain`` and it keeps at least ``min_distinct`` distinct PDs; it is
    fitted on ``bins`` quantile bins of the raw score (see :mod:`riskmodel.models.calibration`).
    """

    folds: int = 5
    min_log_loss_gain: float = 0.001
    min_distinct: int = 30
    bins: int = 20

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise TrainConfigError(f"calibration.folds must be at least 2; got {self.folds}")
        if self.bins < 2:
            raise TrainConfigError(f"calibration.bins must be at least 2; got {self.bins}")
        if self.min_log_loss_gain < 0:
            raise TrainConfigError(
                f"calibration.min_log_loss_gain must be 0 or more; got {self.min_log_loss_gain}"
            )


@dataclass(frozen=True)
class TimingParams:
    """The payment-timing model's own settings (``timing.*``); its trees otherwise follow ``gbm``.

    Its stage models learn from invoice x band rows, many more than the customer models
    see: a learning rate twice ``gbm``'s reaches the same AUC with half the trees, and
    stopping once 40 rounds gain less than 0.0002 of AUC drops about a quarter of the rest
    at no loss (both judged on rolling origins inside development), so open invoices score
    faster.
    """

    learning_rate: float = 0.1
    early_stopping_min_delta: float = 0.0002

    def __post_init__(self) -> None:
        if not 0 < self.learning_rate <= 1:
            raise TrainConfigError(f"timing.learning_rate must be within (0, 1]; got {self.learning_rate}")
        if self.early_stopping_min_delta < 0:
            raise TrainConfigError(
                f"timing.early_stopping_min_delta must be 0 or more; got {self.early_stopping_min_delta}"
            )


@dataclass(frozen=True)
class ChampionRule:
    """A challenger becomes champion when its out-of-time AUC gains at least ``min_auc_gain``
    over the champion's on the same rows and its Brier score is no worse than the champion's
    plus ``brier_tolerance``."""

    min_auc_gain: float = 0.0
    brier_tolerance: float = 0.001


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs besides the ledger (logged flat and dotted to MLflow).

    Out-of-time design (:mod:`riskmodel.models.design`): the validation rows of a dated
    table hold about the last ``validation_share`` of the positive cases' dates; the
    development rows are those whose outcome windows close before them. The GBM and the
    scorecard are compared on ``cv_folds`` rolling origins inside development (stratified
    folds for undated tables); the GBM is chosen only when the lower end of the 90 %
    customer-clustered interval of its AUC gain exceeds ``prefer_simple_within``. The
    first origin needs at least ``min_train_positives`` positive rows to fit on.
    ``imbalance_power`` weights positive rows by ``(n_negative / n_positive) ** power``
    (0 = unweighted, 1 = balanced). A model is registered (and can become champion) only
    with at least ``min_positives`` positive cases: distinct defaulting customers for the
    default and onboarding models, invoices for late payment. ``threads`` caps LightGBM,
    BLAS and OpenMP threads while fitting: on a small machine shared with other jobs, more
    threads than free cores make them several times slower.
    """

    features: FeatureConfig = field(default_factory=FeatureConfig)
    gbm: GBMParams = field(default_factory=GBMParams)
    scorecard: ScorecardParams = field(default_factory=ScorecardParams)
    champion: ChampionRule = field(default_factory=ChampionRule)
    calibration: CalibrationParams = field(default_factory=CalibrationParams)
    timing: TimingParams = field(default_factory=TimingParams)
    validation_share: float = 0.25
    cv_folds: int = 3
    imbalance_power: float = 0.0
    prefer_simple_within: float = 0.0
    horizon_months: int = 12
    min_rows: int = 30
    min_train_positives: int = 10
    min_positives: int = 30
    threads: int = 1
    random_state: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.validation_share < 1:
            raise TrainConfigError(f"validation_share must be within (0, 1); got {self.validation_share}")
        if self.cv_folds < 1:
            raise TrainConfigError(f"cv_folds must be at least 1; got {self.cv_folds}")
        if not 0 <= self.imbalance_power <= 1:
            raise TrainConfigError(f"imbalance_power must be within [0, 1]; got {self.imbalance_power}")
        if self.min_positives < 1:
            raise TrainConfigError(f"min_positives must be at least 1; got {self.min_positives}")
        if self.min_rows < 3:
            raise TrainConfigError(f"min_rows must be at least 3; got {self.min_rows}")

    def params(self) -> dict[str, Any]:
        """Flat, dotted parameters for MLflow (``gbm.learning_rate``, ``features.windows_days``)."""
        flat: dict[str, Any] = {}
        for name, value in dataclasses.asdict(self).items():
            if isinstance(value, dict):
                flat.update({f"{name}.{key}": inner for key, inner in value.items()})
            else:
                flat[name] = value
        return flat


def load_train_config(path: str | Path) -> TrainConfig:
    """Read ``path`` (YAML) into a :class:`TrainConfig`; missing keys keep their defaults.

    Errors name the file, the key, the expected type, the value received and the fix
    (see :mod:`riskmodel.yamlconfig`).
    """
    return load_yaml_config(TrainConfig, path, TrainConfigError)
