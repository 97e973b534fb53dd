"""Train the models of a ledger end to end: table > fit > validate > log to MLflow > register > gate."""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import yaml
from rich.progress import Progress

from riskmodel.exceptions import NotEnoughDataError, TrainConfigError
from riskmodel.features.definitions import Feature, features_for
from riskmodel.features.definitions.customer_facts import undated_features
from riskmodel.ledger.tables import Ledger
from riskmodel.models.card import FEW_VALIDATION_POSITIVES, feature_list, ledger_fingerprint, model_card
from riskmodel.models.config import TrainConfig
from riskmodel.models.fit import FitResult, fit_model
from riskmodel.models.metrics import grade_table
from riskmodel.models.specs import MODEL_SPECS, ModelSpec, positive_cases
from riskmodel.models.tracking import (
    PromotionDecision,
    experiment_id,
    finite_metrics,
    log_model,
    log_validation_model,
    register,
    use_tracking_uri,
)
from riskmodel.policy import Policy, load_policy
from riskmodel.policy.config import N_GRADES
from riskmodel.progress import StepProgress

logger = logging.getLogger(__name__)

MODEL_NAMES: tuple[str, ...] = tuple(MODEL_SPECS)
POLICY_ARTIFACT = "policy/policy.yaml"
HEADLINE_PER_TARGET = ("auc", "gbm_auc", "scorecard_auc", "brier", "calibration_slope", "rolling_auc_mean")
HEADLINE_PRIMARY = (
    "auc_ci_low",
    "auc_ci_high",
    "calibration_slope_ci_low",
    "calibration_slope_ci_high",
    "gini",
    "ks",
    "psi",
    "calibration_intercept",
    "n_positive",
    "n_positive_customers",
    "days_beyond_terms_mae",
)


@dataclass(frozen=True)
class TrainResult:
    """Outcome of one model: trained (with run, version and headline metrics) or skipped (with the reason)."""

    name: str
    status: str
    message: str
    oot_metrics: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    version: str | None = None
    kind: str | None = None
    promoted: bool = False


def train_models(
    ledger: Ledger,
    tracking_uri: str,
    models: Sequence[str] = MODEL_NAMES,
    as_of: date | None = None,
    config: TrainConfig | None = None,
    policy: Policy | None = None,
    progress: Progress | None = None,
    exclude_undated: bool = False,
) -> list[TrainResult]:
    """Train, validate, log and register each model in ``models`` on ``ledger`` as of ``as_of``.

    A model whose data cannot support training (no positive case, too few rows) is skipped
    with the reason in its result. ``policy`` (default: the policy shipped with riskmodel,
    :func:`riskmodel.policy.load_policy`) grades the validation PDs on its master scale for
    the expected-against-observed table and is logged with every model. ``progress`` (from
    :func:`riskmodel.progress.terminal_progress`) shows the model and stage.

    A ledger without ``customer_history`` has only today's credit limit, terms, revenue and
    bureau score: the features reading them are named in a warning and in the run's tag
    ``undated_features``, and left out of the model when ``exclude_undated`` is set.
    """
    config = config or TrainConfig()
    policy = policy or load_policy()
    unknown = sorted(set(models) - set(MODEL_SPECS))
    if unknown:
        raise TrainConfigError(f"unknown model(s) {unknown}; choose from {list(MODEL_SPECS)}")
    data_end = as_of or ledger.require_data_end("train on")
    fingerprint = ledger_fingerprint(ledger, as_of)
    steps = StepProgress(progress, "training", len(models))
    results = []
    for name in models:
        spec = MODEL_SPECS[name]
        features, tags = _candidate_features(spec, ledger, config, exclude_undated)
        run = _Run(tracking_uri, fingerprint, policy, features, tags)
        results.append(_train_one(spec, ledger, as_of, data_end, config, run, steps))
        steps.step()
    return results


@dataclass(frozen=True)
class _Run:
    """What one model's training run shares with the others, and its candidate features and tags."""

    tracking_uri: str
    fingerprint: dict[str, Any]
    policy: Policy
    features: tuple[Feature, ...]
    tags: dict[str, str]


def _candidate_features(
    spec: ModelSpec, ledger: Ledger, config: TrainConfig, exclude_undated: bool
) -> tuple[tuple[Feature, ...], dict[str, str]]:
    """The registry features of the model and the MLflow tags that say which of them are undated."""
    features = features_for(spec.level, config.features)
    undated = () if ledger.has_customer_history else undated_features(features)
    names = ",".join(f.name for f in undated)
    tags = {"undated_features": names, "undated_features_excluded": str(exclude_undated and bool(undated))}
    if not undated:
        return features, tags
    if exclude_undated:
        logger.warning(
            "%s: the ledger has no customer_history; leaving out the undated feature(s) %s",
            spec.name,
            names,
        )
        return tuple(f for f in features if f not in undated), tags
    logger.warning(
        "%s: the ledger has no customer_history, so the feature(s) %s use today's customers values at "
        "every past date (look-ahead: limits cut after delinquency, refreshed bureau scores); add a "
        "customer_history table (docs/ledger.md) or train with --exclude-undated",
        spec.name,
        names,
    )
    return features, tags


def _train_one(
    spec: ModelSpec,
    ledger: Ledger,
    as_of: date | None,
    data_end: date,
    config: TrainConfig,
    run: _Run,
    steps: StepProgress,
) -> TrainResult:
    started = time.perf_counter()
    steps.stage(f"{spec.name}: building the training table")
    logger.info("%s: building the training table as of %s", spec.name, data_end)
    table = spec.build_table(ledger, as_of, config, run.policy.default)
    logger.info(
        "%s: %s rows, %d columns (%.1fs)",
        spec.name,
        f"{len(table):,}",
        table.shape[1],
        time.perf_counter() - started,
    )
    if len(table) < config.min_rows:
        return _skipped(spec, f"{len(table):,} rows in the training table; at least {config.min_rows} needed")
    positives = positive_cases(spec, table)
    if positives < config.min_positives:
        unit = "invoices paid late" if spec.level == "invoice" else "distinct defaulting customers"
        return _skipped(
            spec,
            f"not registered: {positives} positive case(s) ({unit}) in the training table; at least "
            f"{config.min_positives} needed (min_positives in the training config); "
            "add history or lower min_positives",
        )
    steps.stage(f"{spec.name}: fitting")
    try:
        result = fit_model(spec, table, data_end, config, run.features)
    except NotEnoughDataError as err:
        return _skipped(spec, str(err))
    for name, s in result.design_summary.items():
        logger.info(
            "%s: %s rows %s to %s: %s rows, %s positive (%s customers)",
            spec.name,
            name,
            s["first_date"],
            s["last_date"],
            f"{s['rows']:,}",
            f"{s['positive']:,}",
            f"{s['positive_customers']:,}",
        )
    logger.info("%s: %s: %s", spec.name, result.kind, result.choice_reason)
    logger.info(
        "%s: out-of-time AUC %.3f (90 %% interval %.3f to %.3f), calibration slope %.2f (%.2f to %.2f) (%.1fs)",
        spec.name,
        result.metrics["auc"],
        result.metrics["auc_ci_low"],
        result.metrics["auc_ci_high"],
        result.metrics["calibration_slope"],
        result.metrics["calibration_slope_ci_low"],
        result.metrics["calibration_slope_ci_high"],
        time.perf_counter() - started,
    )
    validation_positive = result.design_summary["validation"]["positive"]
    if validation_positive < FEW_VALIDATION_POSITIVES:
        logger.warning(
            "%s: the validation rows hold %d positive case(s); their measures are indicative only",
            spec.name,
            validation_positive,
        )
    steps.stage(f"{spec.name}: logging to MLflow")
    run_id, version, decision = log_fit(
        result, config, run.tracking_uri, run.fingerprint, run.policy, run.tags, positives
    )
    logger.info(
        "%s: registered %s version %s (%s): %s (%.1fs)",
        spec.name,
        spec.registered_name,
        version,
        "champion" if decision.promoted else "challenger",
        decision.reason,
        time.perf_counter() - started,
    )
    headline = _headline(result) | {"kind": result.kind, "version": version, "champion": decision.promoted}
    return TrainResult(
        spec.name, "trained", decision.reason, headline, run_id, version, result.kind, decision.promoted
    )


def _skipped(spec: ModelSpec, reason: str) -> TrainResult:
    reason = f"{reason}; until a version is registered, {spec.without_model}"
    logger.warning("%s: skipped: %s", spec.name, reason)
    return TrainResult(spec.name, "skipped", reason)


def _headline(result: FitResult) -> dict[str, float]:
    m = result.metrics
    keys = [f"{name}{t.suffix}" for t in result.spec.targets for name in HEADLINE_PER_TARGET] + list(
        HEADLINE_PRIMARY
    )
    return {key: round(float(m[key]), 4) for key in keys if key in m and np.isfinite(m[key])}


def _params(result: FitResult, config: TrainConfig) -> dict[str, Any]:
    return config.params() | {
        "model.name": result.spec.name,
        "model.kind": result.kind,
        "data.end": result.data_end.isoformat(),
        "data.date_column": result.spec.date_column,
        "features.n_used": len(result.model.feature_names),
        "features.n_dropped": len(result.model.preparer.dropped_),
        "calibration": ",".join(f"{e.target.output}:{e.calibration_method}" for e in result.heads),
    }


def _policy_params(policy: Policy) -> dict[str, Any]:
    """The policy version and the default definition the labels were built with (``default.cure_months``)."""
    return {"policy.version": policy.version} | {
        f"default.{name}": value for name, value in dataclasses.asdict(policy.default).items()
    }


def grade_coverage(result: FitResult, policy: Policy) -> pd.Series | None:
    """Rows per master-scale grade 1..10 of the registered model at the table's latest date (None for late payment).

    Shows whether the calibrated PDs spread over the scale: an empty grade in the middle
    means PDs jump across it from one month to the next.
    """
    if result.spec.name == "late_payment" or result.latest is None or not len(result.latest):
        return None
    pd_12m = result.model.predict(result.latest)[result.heads[0].target.output].to_numpy()
    counts = pd.Series(policy.grade(pd_12m)).value_counts()
    return counts.reindex(range(1, N_GRADES + 1), fill_value=0).rename("rows")


def _grades(result: FitResult, policy: Policy) -> pd.DataFrame | None:
    if result.spec.name == "late_payment":
        return None
    head = result.heads[0]
    return grade_table(head.y, head.p, policy.grade)


def log_fit(
    result: FitResult,
    config: TrainConfig,
    tracking_uri: str,
    fingerprint: dict[str, Any],
    policy: Policy | None = None,
    tags: dict[str, str] | None = None,
    positives: int | None = None,
) -> tuple[str, str, PromotionDecision]:
    """Log ``result`` as one MLflow run and register its model; returns (run id, version, promotion decision).

    The run holds params, out-of-time metrics, plots, the feature list, the data fingerprint,
    the policy whose master scale grades the validation (``policy``, default the shipped one;
    its YAML as ``policy/policy.yaml``, its version as param ``policy.version``) and the
    model card, and ``tags``; the model is registered under the spec's name with alias ``challenger``
    and, when it passes the champion gate, ``champion``.
    """
    spec = result.spec
    policy = policy or load_policy()
    use_tracking_uri(tracking_uri)
    with mlflow.start_run(
        experiment_id=experiment_id(spec.experiment_name, tracking_uri),
        run_name=f"{spec.name} {result.data_end}",
    ) as run:
        mlflow.log_params(_params(result, config) | _policy_params(policy))
        mlflow.log_metrics(finite_metrics(result.metrics))
        mlflow.set_tags(
            {"model": spec.name, "kind": result.kind, "kind_reason": result.choice_reason} | (tags or {})
        )
        mlflow.set_tags({f"calibration_reason{e.target.suffix}": e.calibration_reason for e in result.heads})
        coverage = grade_coverage(result, policy)
        if coverage is not None:
            mlflow.log_metric("grades_populated", int((coverage > 0).sum()))
            mlflow.set_tag("grade_coverage", " ".join(f"{g}:{n}" for g, n in coverage.items()))
            logger.info(
                "%s: grades populated at the latest snapshot: %d of %d (%s)",
                spec.name,
                int((coverage > 0).sum()),
                len(coverage),
                " ".join(f"{g}:{n}" for g, n in coverage.items()),
            )
        mlflow.log_dict(feature_list(result, config), "features.json")
        mlflow.log_dict(fingerprint | {"design": result.design_summary}, "data_fingerprint.json")
        mlflow.log_text(result.origins.to_csv(index=False), "rolling_origins.csv")
        for name, frame in result.tables.items():
            mlflow.log_text(frame.to_csv(index=False), f"{name}.csv")
        grades = _grades(result, policy)
        if grades is not None:
            mlflow.log_text(grades.to_csv(index=False), "grades.csv")
        mlflow.log_text(
            policy.source_text or yaml.safe_dump(policy.to_dict(), sort_keys=False), POLICY_ARTIFACT
        )
        from riskmodel.models.plots import write_plots  # matplotlib is needed for training only

        with tempfile.TemporaryDirectory() as folder:
            write_plots(result.heads, result.model.feature_names, Path(folder))
            mlflow.log_artifacts(folder, "plots")
        model_uri = log_model(result)
        log_validation_model(result)
        version, decision = register(result, model_uri, config, tracking_uri, positives)
        mlflow.set_tags({"registered_version": version, **decision.tags()})
        mlflow.log_text(
            model_card(result, fingerprint, grades, _decision_summary(decision), version, coverage),
            "model_card.md",
        )
    return run.info.run_id, version, decision


def _decision_summary(decision: PromotionDecision) -> dict[str, Any]:
    return {"promoted to champion": decision.promoted, "reason": decision.reason}
