"""MLflow: where runs go, how a fitted model is logged and registered, champion/challenger, loading.

Registry aliases, not stages: every new version gets ``challenger``; it also gets
``champion`` when there is none yet or when it beats the champion on the same
out-of-time rows by :class:`~riskmodel.models.config.ChampionRule`.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cloudpickle
import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import DataType
from mlflow.types.schema import AnyType, ColSpec, Schema

from riskmodel.exceptions import ModelNotFoundError, TrackingError
from riskmodel.models.config import ChampionRule, TrainConfig
from riskmodel.models.fit import FitResult, gate_scores
from riskmodel.models.pipeline import LatePaymentModel, RiskPipeline
from riskmodel.models.specs import outcome_end

logger = logging.getLogger(__name__)

VALIDATION_MODEL_DIR = "validation_model"
VALIDATION_MODEL_FILE = "model.pkl"

CHAMPION, CHALLENGER = "champion", "challenger"
DATABASE_FILE = "mlflow.db"
ARTIFACT_FOLDER = "mlartifacts"
MODEL_PACKAGES = (
    "mlflow",
    "lightgbm",
    "scikit-learn",
    "scipy",
    "pandas",
    "numpy",
    "pyarrow",
    "cloudpickle",
    "pyyaml",
)


@contextmanager
def tracking_errors(tracking_uri: str) -> Iterator[None]:
    """Turn MLflow's errors into :class:`~riskmodel.exceptions.TrackingError` naming the tracking URI."""
    try:
        yield
    except MlflowException as err:
        raise TrackingError(f"MLflow tracking at {tracking_uri}: {err.message}") from err


def default_tracking_uri(folder: str | Path) -> str:
    """``sqlite:///<folder>/mlflow.db`` with an absolute path."""
    return f"sqlite:///{(Path(folder) / DATABASE_FILE).resolve()}"


def artifact_location(tracking_uri: str) -> str | None:
    """``mlartifacts/`` beside a SQLite tracking database; None (the server decides) for other stores."""
    if tracking_uri.startswith("sqlite:///"):
        return (Path(tracking_uri.removeprefix("sqlite:///")).resolve().parent / ARTIFACT_FOLDER).as_uri()
    return None


def use_tracking_uri(tracking_uri: str) -> None:
    """Point MLflow's tracking and registry at ``tracking_uri`` for this process."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)


def experiment_id(name: str, tracking_uri: str) -> str:
    """The experiment ``name``, created with its artifact location when it does not exist."""
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    return client.create_experiment(name, artifact_location=artifact_location(tracking_uri))


def _package_versions() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for package in MODEL_PACKAGES:
        try:
            pins.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return pins


def input_example(result: FitResult, n_rows: int = 5) -> pd.DataFrame:
    """A few validation rows of the model's input columns, with the feature table's dtypes."""
    frame = result.validation[result.model.input_columns].head(n_rows).copy()
    for name in result.model.preparer.categories_:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def input_schema(example: pd.DataFrame, categorical: Iterable[str]) -> Schema:
    """Every feature column required, typed as the feature table types it.

    float64 columns are ``double`` and int64 counts ``long``; nullable integers (firmographics
    read from the ledger) accept any value, since MLflow will not cast them to float.
    """
    categorical = set(categorical)
    columns = []
    for name, dtype in example.dtypes.items():
        if name in categorical:
            columns.append(ColSpec(DataType.string, name))
        elif dtype == np.float64:
            columns.append(ColSpec(DataType.double, name))
        elif dtype == np.int64:
            columns.append(ColSpec(DataType.long, name))
        else:
            columns.append(ColSpec(AnyType(), name))
    return Schema(columns)


def log_model(result: FitResult) -> str:
    """Log the fitted pipeline as a pyfunc model with signature and input example; returns its model URI."""
    example = input_example(result)
    outputs = Schema([ColSpec(DataType.double, name) for name in result.model.predict(example).columns])
    signature = ModelSignature(
        inputs=input_schema(example, result.model.preparer.categories_), outputs=outputs
    )
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=result.model,
        signature=signature,
        input_example=example,
        pip_requirements=_package_versions(),
    )
    return info.model_uri


def log_validation_model(result: FitResult) -> None:
    """Store the validation model (fitted on the development rows only) in the run, for the validation report.

    The registered model has seen every labelled row, so out-of-time measures rebuilt later
    must come from this one.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / VALIDATION_MODEL_FILE
        path.write_bytes(cloudpickle.dumps(result.validation_model))
        mlflow.log_artifact(str(path), VALIDATION_MODEL_DIR)


def load_validation_model(run_id: str, tracking_uri: str) -> RiskPipeline:
    """The validation model stored by :func:`log_validation_model` in run ``run_id``.

    Raises
    ------
    ModelNotFoundError
        When the run has none (trained before the out-of-time design kept it): retrain.
    """
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = client.download_artifacts(
                run_id, f"{VALIDATION_MODEL_DIR}/{VALIDATION_MODEL_FILE}", folder
            )
        except (MlflowException, OSError) as err:
            raise ModelNotFoundError(
                f"run {run_id} has no validation model (trained by an older riskmodel); retrain with 'riskmodel train'"
            ) from err
        return cloudpickle.loads(Path(path).read_bytes())


@dataclass(frozen=True)
class PromotionDecision:
    """Whether a challenger becomes champion, and the numbers that decided it (same out-of-time rows)."""

    promoted: bool
    reason: str
    challenger_auc: float
    challenger_brier: float
    champion_version: str | None = None
    champion_auc: float | None = None
    champion_brier: float | None = None

    def tags(self) -> dict[str, str]:
        return {f"champion_gate.{k}": str(v) for k, v in asdict(self).items()}


def decide_promotion(
    challenger: tuple[float, float],
    champion: tuple[float, float] | None,
    rule: ChampionRule,
    champion_version: str | None = None,
    positives: int | None = None,
    min_positives: int = 1,
) -> PromotionDecision:
    """Apply ``rule`` to (AUC, Brier) of the challenger and of the champion (None when there is none).

    A challenger trained on fewer than ``min_positives`` positive cases is never promoted,
    not even when there is no champion yet.
    """
    auc_new, brier_new = challenger
    if positives is not None and positives < min_positives:
        reason = f"{positives} positive case(s) in training; at least {min_positives} (min_positives) needed"
        return PromotionDecision(False, reason, auc_new, brier_new, champion_version)
    if champion is None:
        return PromotionDecision(True, "no champion yet", auc_new, brier_new)
    auc_old, brier_old = champion
    gain_ok = auc_new - auc_old >= rule.min_auc_gain
    brier_ok = brier_new <= brier_old + rule.brier_tolerance
    reason = (
        f"AUC {auc_new:.4f} vs {auc_old:.4f} (gain {auc_new - auc_old:+.4f}, needs >= {rule.min_auc_gain:+.4f}); "
        f"Brier {brier_new:.5f} vs {brier_old:.5f} (allowed up to {brier_old + rule.brier_tolerance:.5f})"
    )
    return PromotionDecision(
        gain_ok and brier_ok, reason, auc_new, brier_new, champion_version, auc_old, brier_old
    )


def load_model_version(
    name: str, alias_or_version: str, tracking_uri: str | None = None
) -> tuple[RiskPipeline, str]:
    """Our fitted object and its version number, by alias (``champion``) or version number."""
    uri = tracking_uri or mlflow.get_tracking_uri()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    try:
        if alias_or_version.isdigit():
            version = client.get_model_version(name, alias_or_version)
        else:
            version = client.get_model_version_by_alias(name, alias_or_version)
    except MlflowException as err:
        raise ModelNotFoundError(
            f"no version of '{name}' is '{alias_or_version}' in {uri}; run 'riskmodel train data/sample' first"
        ) from err
    location = client.get_model_version_download_uri(name, version.version)
    model = mlflow.pyfunc.load_model(location).unwrap_python_model()
    if isinstance(model, LatePaymentModel) and not hasattr(getattr(model, "timing", None), "typical_delay"):
        raise ModelNotFoundError(
            f"version {version.version} of '{name}' was trained by an earlier riskmodel (separate late-payment "
            "heads, or a payment-timing model calibrated row by row); run 'riskmodel train' again"
        )
    return model, str(version.version)


def load_champion(name: str, tracking_uri: str | None = None) -> tuple[RiskPipeline, str]:
    """The champion of registered model ``name`` (e.g. ``riskmodel-default``) and its version.

    ``tracking_uri`` defaults to MLflow's current one (``MLFLOW_TRACKING_URI``).

    Raises
    ------
    ModelNotFoundError
        When no version of ``name`` has the ``champion`` alias.
    """
    return load_model_version(name, CHAMPION, tracking_uri)


def _champion_scores(
    result: FitResult, config: TrainConfig, tracking_uri: str
) -> tuple[tuple[float, float] | None, tuple[float, float] | None, str | None, str]:
    """(challenger, champion) (AUC, Brier) on the validation rows the champion was not trained on.

    The champion is refitted on every outcome known at its ``trained_as_of``: scored on
    those rows it would be judged in-sample. When no validation row is new to it (both
    trained on the same data end), the champion's own recorded out-of-time scores stand
    in, and the reason says so. Returns None for the champion when there is none (with why).
    """
    try:
        champion, version = load_champion(result.spec.registered_name, tracking_uri)
    except ModelNotFoundError:
        return None, None, None, "no champion yet"
    unseen = _unseen_by(champion, result, config)
    challenger = gate_scores(result.validation_model, result, config, unseen)
    try:
        if np.isfinite(challenger[0]):
            return challenger, gate_scores(champion, result, config, unseen), version, ""
        recorded = _recorded_scores(result.spec.registered_name, version, tracking_uri)
        if recorded is not None:
            why = (
                f"champion version {version} was trained on every validation outcome; compared with its own "
                "recorded out-of-time scores"
            )
            return gate_scores(result.validation_model, result, config), recorded, version, why
        return None, None, version, f"champion version {version} has no recorded out-of-time scores"
    except (KeyError, ValueError, AttributeError, TypeError) as err:
        logger.warning(
            "%s: champion version %s cannot score the current data (%s)",
            result.spec.registered_name,
            version,
            err,
        )
        return None, None, version, f"champion version {version} cannot score the current data: {err}"


def _unseen_by(champion: RiskPipeline, result: FitResult, config: TrainConfig) -> np.ndarray:
    """Mask of ``result.validation`` rows whose outcome window closes after the champion's ``trained_as_of``."""
    if champion.trained_as_of is None or result.data_end is None:
        return np.ones(len(result.validation), dtype=bool)
    closes = outcome_end(result.spec, result.validation, config.horizon_months)
    return (closes > pd.Timestamp(champion.trained_as_of)).to_numpy()


def _recorded_scores(name: str, version: str, tracking_uri: str) -> tuple[float, float] | None:
    """(AUC, Brier) the version was registered with (its own out-of-time scores), if tagged."""
    tags = (
        MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        .get_model_version(name, version)
        .tags
    )
    try:
        return float(tags["champion_gate.challenger_auc"]), float(tags["champion_gate.challenger_brier"])
    except (KeyError, ValueError):
        return None


def register(
    result: FitResult, model_uri: str, config: TrainConfig, tracking_uri: str, positives: int | None = None
) -> tuple[str, PromotionDecision]:
    """Register ``model_uri`` as a new version (alias ``challenger``) and run the champion gate on it.

    ``positives`` (positive cases in the training table) below ``config.min_positives`` blocks promotion.
    """
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    name = result.spec.registered_name
    champion_challenger, champion_scores, champion_version, why = _champion_scores(
        result, config, tracking_uri
    )
    challenger_scores = champion_challenger or gate_scores(result.validation_model, result, config)
    version = str(mlflow.register_model(model_uri, name).version)
    client.set_registered_model_alias(name, CHALLENGER, version)
    decision = decide_promotion(
        challenger_scores, champion_scores, config.champion, champion_version, positives, config.min_positives
    )
    enough = positives is None or positives >= config.min_positives
    if champion_scores is None and why != "no champion yet" and enough:
        decision = PromotionDecision(True, why, *challenger_scores, champion_version)
    elif why and champion_scores is not None:
        decision = replace(decision, reason=f"{decision.reason} ({why})")
    if decision.promoted:
        client.set_registered_model_alias(name, CHAMPION, version)
    for key, value in {**decision.tags(), "kind": result.kind}.items():
        client.set_model_version_tag(name, version, key, value)
    return version, decision


def finite_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """MLflow metric names (``oot.auc_30``, ``cv.gbm_auc``) of the finite measures."""
    named = {}
    for key, value in metrics.items():
        if value is None or not math.isfinite(value):
            continue
        named[f"cv.{key.removeprefix('cv_')}" if key.startswith("cv_") else f"oot.{key}"] = float(value)
    return named
