"""Errors of model training and loading (all are :class:`riskmodel.exceptions.RiskModelError`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from riskmodel.exceptions import RiskModelError


class TrainConfigError(RiskModelError, ValueError):
    """A training configuration file or value breaks its rules."""


class NotEnoughDataError(RiskModelError, ValueError):
    """A model's training table cannot support training and out-of-time validation (too few rows or events)."""


class TrackingError(RiskModelError, RuntimeError):
    """The MLflow tracking store cannot be reached or used."""


@contextmanager
def tracking_errors(tracking_uri: str) -> Iterator[None]:
    """Turn MLflow's errors into :class:`TrackingError` naming the tracking URI."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as err:
        raise TrackingError(f"MLflow tracking at {tracking_uri}: {err.message}") from err
