"""riskmodel: credit-risk scoring for companies that sell to other businesses on credit terms."""

from riskmodel.exceptions import LedgerError, ModelNotFoundError, PolicyError, RiskModelError
from riskmodel.ledger import Ledger, load_ledger

__version__ = "0.1.0"
__all__ = ["Ledger", "LedgerError", "ModelNotFoundError", "PolicyError", "RiskModelError", "__version__", "load_ledger"]
