"""riskmodel: credit-risk scoring for companies that sell to other businesses on credit terms."""

from riskmodel.exceptions import LedgerError, ModelNotFoundError, PolicyError, RiskModelError
from riskmodel.ledger import Ledger, load_ledger

__version__ = "0.1.0"
__all__ = [
    "Ledger",
    "LedgerError",
    "ModelNotFoundError",
    "PolicyError",
    "RiskModelError",
    "__version__",
    "load_ledger",
    "score_customers",
    "train_models",
]


def __getattr__(name: str):  # heavy modules (MLflow, LightGBM) load on first use, not at import
    if name == "train_models":
        from riskmodel.models import train_models

        return train_models
    if name == "score_customers":
        from riskmodel.scoring import score_customers

        return score_customers
    raise AttributeError(f"module 'riskmodel' has no attribute {name!r}")
