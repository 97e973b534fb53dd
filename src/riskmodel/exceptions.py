"""Exception hierarchy: every error riskmodel raises on purpose derives from RiskModelError."""

from __future__ import annotations


class RiskModelError(Exception):
    """Root of riskmodel's errors."""


class LedgerError(RiskModelError, ValueError):
    """A ledger is unusable or breaks the input contract (see DESIGN.md)."""


class PolicyError(RiskModelError, ValueError):
    """A credit-policy configuration is invalid."""


class ModelNotFoundError(RiskModelError, LookupError):
    """No registered model matches the requested name or alias."""


class ReportError(RiskModelError, RuntimeError):
    """The validation report could not be produced (notebook missing, or a cell failed)."""
