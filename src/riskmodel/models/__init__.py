"""Late-payment, default and onboarding models: fitting, validation, MLflow tracking and loading.

The service and batch scoring use :func:`load_champion`, which returns a
:class:`LatePaymentModel` or :class:`CreditModel` with ``feature_names``,
``predict_proba(X)`` and ``contributions(X)``.
"""

from riskmodel.models.config import ChampionRule, GBMParams, ScorecardParams, TrainConfig, load_train_config
from riskmodel.models.pipeline import CreditModel, LatePaymentModel, RiskPipeline
from riskmodel.models.specs import MODEL_SPECS
from riskmodel.models.tracking import (
    decide_promotion,
    default_tracking_uri,
    load_champion,
    load_model_version,
)
from riskmodel.models.train import MODEL_NAMES, TrainResult, train_models

__all__ = [
    "MODEL_NAMES",
    "MODEL_SPECS",
    "ChampionRule",
    "CreditModel",
    "GBMParams",
    "LatePaymentModel",
    "RiskPipeline",
    "ScorecardParams",
    "TrainConfig",
    "TrainResult",
    "decide_promotion",
    "default_tracking_uri",
    "load_champion",
    "load_model_version",
    "load_train_config",
    "train_models",
]
