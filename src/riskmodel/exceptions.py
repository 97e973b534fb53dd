"""Exception hierarchy: every error riskmodel raises on purpose derives from RiskModelError.

Each class also inherits a built-in exception, so callers can catch either.
"""

from __future__ import annotations


class RiskModelError(Exception):
    """Root of riskmodel's errors."""


class LedgerError(RiskModelError, ValueError):
    """A ledger is unusable or breaks the input contract (see DESIGN.md)."""


class ConfigError(RiskModelError, ValueError):
    """A YAML configuration file or value breaks its rules (see :mod:`riskmodel.yamlconfig`)."""


class PolicyError(ConfigError):
    """A credit-policy configuration is invalid."""


class TrainConfigError(ConfigError):
    """A training configuration file or value breaks its rules."""


class NotEnoughDataError(RiskModelError, ValueError):
    """A model's training table cannot support training and out-of-time validation (too few rows or events)."""


class ModelNotFoundError(RiskModelError, LookupError):
    """No registered model matches the requested name or alias."""


class TrackingError(RiskModelError, RuntimeError):
    """The MLflow tracking store cannot be reached or used."""


class OutputError(RiskModelError, ValueError):
    """An output path that riskmodel cannot write."""


class RealDataError(RiskModelError, ValueError):
    """A public data-set file is unusable: wrong columns or values."""


class RealDataFileError(RealDataError, FileNotFoundError):
    """A public data-set file is not where it was looked for."""


class RescoreError(RiskModelError, ValueError):
    """A rescoring run that cannot be resumed as asked (the portfolio or the policy changed since it started)."""


class ReportError(RiskModelError, RuntimeError):
    """The validation report could not be produced (notebook missing, or a cell failed)."""


class ForecastError(RiskModelError, ValueError):
    """A cash forecast that cannot be made as asked (a date outside the ledger, an unknown customer)."""


class BacktestError(RiskModelError, ValueError):
    """A backtest cannot run as asked (dates, or a ledger too short for its outcomes)."""
