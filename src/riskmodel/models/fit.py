"""Fit one model from its training table: slices, candidates, choice, calibration, validation.

Pure computation (no MLflow): :func:`fit_model` returns a :class:`FitResult` that
:func:`riskmodel.models.train.log_fit` logs and registers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from riskmodel.exceptions import NotEnoughDataError
from riskmodel.features.definitions import Feature, features_for
from riskmodel.models.calibration import ScoreCalibrator, strictly_increasing
from riskmodel.models.columns import FeaturePreparer
from riskmodel.models.config import TrainConfig
from riskmodel.models.gbm import MonotoneGBM
from riskmodel.models.heads import Head, ObservedRate
from riskmodel.models.metrics import auc, binary_metrics, brier
from riskmodel.models.pipeline import CreditModel, DelayProfile, LatePaymentModel, RiskPipeline
from riskmodel.models.scorecard import BinnedScorecard
from riskmodel.models.slices import SLICE_NAMES, Slices, stratified_slices, time_slices
from riskmodel.models.specs import ModelSpec, Target, outcome_known
from riskmodel.validation.drift import DriftMonitor

logger = logging.getLogger(__name__)

CANDIDATES = ("gbm", "scorecard")
EXPLAIN_ROWS = 2000  # validation rows whose contributions are kept for the SHAP summary
DRIFT_FEATURES = 8  # most important features whose training distribution the model carries
CALIBRATION_GROUP = "customer_id"  # calibration folds keep each customer's rows together


@dataclass
class HeadEvaluation:
    """Out-of-time validation of one target of the fitted model (inputs of the metrics and plots)."""

    target: Target
    kind: str
    y: np.ndarray
    p: np.ndarray
    p_train: np.ndarray
    p_by_candidate: dict[str, np.ndarray]
    selection_auc: dict[str, float]
    calibration_method: str
    importance: dict[str, np.ndarray]
    contributions: np.ndarray
    feature_values: np.ndarray
    note: str = ""
    calibration_reason: str = ""
    calibration_strictly_increasing: bool = True  # calibrated PD rises with every distinct validation score


@dataclass
class FitResult:
    """A fitted model with everything needed to log, compare and register it."""

    spec: ModelSpec
    model: RiskPipeline
    kind: str
    selection_auc: dict[str, float]
    heads: list[HeadEvaluation]
    metrics: dict[str, float]
    validation: pd.DataFrame
    slice_summary: dict[str, dict[str, object]]
    data_end: date | None  # None for tables without dates (fit_model_on_split)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Candidate:
    target: Target
    rows: dict[str, np.ndarray]
    scorers: dict[str, MonotoneGBM | BinnedScorecard | ObservedRate]
    selection_auc: dict[str, float]
    note: str = ""


def fit_model(
    spec: ModelSpec,
    table: pd.DataFrame,
    data_end: date,
    config: TrainConfig,
    features: tuple[Feature, ...] | None = None,
) -> FitResult:
    """Train, choose, calibrate and validate ``spec``'s model on ``table`` (its training table).

    ``features`` are the candidate features (default: the registry features of ``spec.level``).

    Raises
    ------
    NotEnoughDataError
        When the table has too few rows, no positive case of the first target, or too few
        to fill the three time slices.
    """
    with threadpool_limits(limits=config.threads):
        table = table.sort_values(spec.date_column, kind="stable").reset_index(drop=True)
        known = {
            t.label: outcome_known(spec, table, t, data_end, config.horizon_months) for t in spec.targets
        }
        _check_enough(spec, table, known)
        split_positive = known[spec.split_label] & (table[spec.split_label] == 1).to_numpy()
        try:
            slices = time_slices(table[spec.date_column], split_positive, config.slices)
        except NotEnoughDataError as err:
            raise NotEnoughDataError(f"{spec.name}: {spec.split_label}: {err}") from err
        trainable = {
            label: _censor_at_cut(table, spec.key_column, label, mask, slices)
            for label, mask in known.items()
        }
        features = features_for(spec.level, config.features) if features is None else features
        return _fit(spec, table, known, trainable, slices, features, data_end, config)


def fit_model_on_split(
    spec: ModelSpec,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    config: TrainConfig,
    features: tuple[Feature, ...] | None = None,
    data_end: date | None = None,
) -> FitResult:
    """:func:`fit_model` for a table without dates: ``holdout`` is the validation slice.

    ``train`` is split, stratified by ``spec.split_label``, into the training and selection
    slices in the ratio ``config.slices[0] : config.slices[1]`` (seeded by
    ``config.random_state``); candidates, choice, calibration and validation then run as in
    :func:`fit_model`. Every row of ``holdout`` is used for validation only. ``features``
    defaults to the registry features of ``spec.level``; ``data_end`` (None when unknown)
    is recorded as the model's ``trained_as_of``.

    Raises
    ------
    NotEnoughDataError
        When a label is missing, a class has fewer than 2 rows in ``train``, or ``holdout``
        lacks a class.
    ValueError
        When a value of ``spec.key_column`` occurs twice (it would leak between the slices).
    """
    table = pd.concat([train, holdout], ignore_index=True)
    repeated = table[spec.key_column][table[spec.key_column].duplicated()]
    if len(repeated):
        raise ValueError(
            f"{spec.name}: {spec.key_column} must be unique across training and hold-out rows; "
            f"{len(repeated):,} repeat (first {repeated.iloc[0]!r}); drop or merge the repeats"
        )
    known = {t.label: table[t.label].notna().to_numpy() for t in spec.targets}
    unlabelled = [label for label, mask in known.items() if not mask.all()]
    if unlabelled:
        raise NotEnoughDataError(f"{spec.name}: rows without a label in {unlabelled}; drop them first")
    if holdout[spec.split_label].nunique() < 2:
        raise NotEnoughDataError(f"{spec.name}: the hold-out needs positive and negative {spec.split_label}")
    with threadpool_limits(limits=config.threads):
        _check_enough(spec, table, known)
        try:
            slices = stratified_slices(
                train[spec.split_label].to_numpy(), len(holdout), config.slices, config.random_state
            )
        except NotEnoughDataError as err:
            raise NotEnoughDataError(f"{spec.name}: {spec.split_label}: {err}") from err
        features = features_for(spec.level, config.features) if features is None else features
        return _fit(spec, table, known, known, slices, features, data_end, config)


def _fit(
    spec: ModelSpec,
    table: pd.DataFrame,
    known: dict[str, np.ndarray],
    trainable: dict[str, np.ndarray],
    slices: Slices,
    features: tuple[Feature, ...],
    data_end: date | None,
    config: TrainConfig,
) -> FitResult:
    """Candidates, choice, calibration and validation on given slices (shared by both entry points)."""
    primary = spec.targets[0]
    preparer = FeaturePreparer(features).fit(table.iloc[slices.train])
    if not preparer.feature_names_:
        raise NotEnoughDataError(
            f"{spec.name}: no feature carries information in the training rows ({len(preparer.dropped_)} dropped)"
        )
    matrix = preparer.transform(table)
    candidates = [
        _fit_candidates(
            spec,
            t,
            table,
            matrix,
            trainable[t.label],
            known[t.label],
            slices,
            preparer,
            config,
            required=t is primary,
        )
        for t in spec.targets
    ]
    kind = _choose_kind(candidates, config.prefer_simple_within)
    group_column = CALIBRATION_GROUP if CALIBRATION_GROUP in table.columns else spec.key_column
    heads, calibrated = _calibrate(candidates, kind, table, matrix, table[group_column].to_numpy(), config)
    model = _assemble(spec, preparer, heads, kind, table, slices, data_end, config)
    outputs = model.predict(table)
    model.drift_monitor = drift_reference(model, table.iloc[slices.train], outputs.iloc[slices.train])
    evaluations = [
        _evaluate(c, model, calibrated[c.target.label], table, matrix, outputs) for c in candidates
    ]
    metrics = _metrics(evaluations, model, table, slices)
    notes = [f"{e.target.label}: {e.note}" for e in evaluations if e.note]
    summary = _slice_summary(spec, table, slices, known)
    return FitResult(
        spec=spec,
        model=model,
        kind=kind,
        selection_auc=_mean_selection_auc(candidates),
        heads=evaluations,
        metrics=metrics,
        validation=table.iloc[slices.validation].reset_index(drop=True),
        slice_summary=summary,
        data_end=data_end,
        notes=notes,
    )


def drift_reference(model: RiskPipeline, rows: pd.DataFrame, outputs: pd.DataFrame) -> DriftMonitor:
    """A :class:`DriftMonitor` of the first output and the ``DRIFT_FEATURES`` most important features on ``rows``.

    Importance is the chosen scorer's (split gain of a GBM, term spread of a scorecard);
    features it never uses are left out.
    """
    output = model.heads[0].target.output
    importance = model.heads[0].scorer.importance()
    ranked = [model.feature_names[i] for i in np.argsort(-importance, kind="stable") if importance[i] > 0]
    columns = [output, *ranked[:DRIFT_FEATURES]]
    frame = rows.reset_index(drop=True).assign(**{output: outputs[output].to_numpy()})
    return DriftMonitor(columns).fit(frame)


def _check_enough(spec: ModelSpec, table: pd.DataFrame, known: dict[str, np.ndarray]) -> None:
    label = spec.split_label
    usable = known[label]
    n_rows, n_positive = int(usable.sum()), int((table.loc[usable, label] == 1).sum())
    if n_positive == 0:
        raise NotEnoughDataError(
            f"{spec.name}: no positive case of {label} among {n_rows:,} rows with a known outcome"
        )
    if n_rows < 3 or n_rows - n_positive == 0:
        raise NotEnoughDataError(
            f"{spec.name}: {n_rows:,} rows with a known {label} and {n_rows - n_positive:,} negative; the model needs both outcomes"
        )


def _censor_at_cut(
    table: pd.DataFrame, key_column: str, label: str, known: np.ndarray, slices: Slices
) -> np.ndarray:
    """Leave out training positives whose outcome happens after the training slice ends.

    A customer-month snapshot is positive when the customer defaults within the horizon;
    when the same customer is still a positive case in a later slice, that default comes
    after the training cut date, so a model trained at the cut could not have known the
    label. Keeping such rows lets the model recognise the customer (static firmographics
    identify it) and inflates the selection and validation measures. Tables with one row
    per key (invoices, onboarding) are unchanged.
    """
    label_values = table[label].to_numpy()
    keys = table[key_column]
    later = np.concatenate([slices.selection, slices.validation])
    later_positive_keys = set(keys.iloc[later[known[later] & (label_values[later] == 1)]])
    train = slices.train
    censored = (label_values[train] == 1) & keys.iloc[train].isin(later_positive_keys).to_numpy()
    trainable = known.copy()
    trainable[train[censored]] = False
    return trainable


def _positive_weights(y: np.ndarray, power: float) -> np.ndarray:
    """Weight 1 for negatives and (n_negative / n_positive) ** power for positives."""
    n_pos = max(float(y.sum()), 1.0)
    return np.where(y == 1, ((len(y) - n_pos) / n_pos) ** power, 1.0)


def _fit_candidates(
    spec: ModelSpec,
    target: Target,
    table: pd.DataFrame,
    matrix: np.ndarray,
    trainable: np.ndarray,
    known: np.ndarray,
    slices: Slices,
    preparer: FeaturePreparer,
    config: TrainConfig,
    required: bool,
) -> _Candidate:
    """Fit the GBM and the scorecard on the training rows of ``target``, score them on the selection rows."""
    rows = {name: slices.rows(name)[known[slices.rows(name)]] for name in SLICE_NAMES}
    y = table[target.label].to_numpy(dtype=float)
    rows["train"], note = _training_rows(
        spec, target, y, rows["train"], slices.train[trainable[slices.train]], config
    )
    lacking = [name for name in SLICE_NAMES if len(np.unique(y[rows[name]])) < 2]
    if lacking:
        counts = ", ".join(f"{name} {int(y[rows[name]].sum())}/{len(rows[name])}" for name in SLICE_NAMES)
        message = f"positive/rows by slice: {counts}; {', '.join(lacking)} lack(s) one outcome"
        if required:
            raise NotEnoughDataError(f"{spec.name}: {target.label} {message}")
        logger.warning(
            "%s: %s: %s; P uses the observed training rate (no model)", spec.name, target.label, message
        )
        rate = ObservedRate(y[rows["train"]].sum(), len(rows["train"]))
        return _Candidate(
            target, rows, dict.fromkeys(CANDIDATES, rate), {}, note=f"observed rate used: {message}"
        )
    started = time.perf_counter()
    X, y_train = matrix[rows["train"]], y[rows["train"]]
    weight = _positive_weights(y_train, config.imbalance_power)
    categorical = tuple(preparer.categorical_indices_)
    scorers = {
        "gbm": MonotoneGBM(
            config.gbm, tuple(preparer.monotone_), categorical, config.random_state, config.threads
        ).fit(X, y_train, weight),
        "scorecard": BinnedScorecard(config.scorecard.n_bins, config.scorecard.C, categorical).fit(
            X, y_train, weight
        ),
    }
    selection_auc = {
        kind: auc(y[rows["selection"]], scorer.raw_score(matrix[rows["selection"]]))
        for kind, scorer in scorers.items()
    }
    logger.info(
        "%s: %s: fitted on %s rows (%d positive), %d trees, selection AUC gbm %.3f scorecard %.3f (%.1fs)",
        spec.name,
        target.label,
        f"{len(y_train):,}",
        int(y_train.sum()),
        scorers["gbm"].n_trees_,
        selection_auc["gbm"],
        selection_auc["scorecard"],
        time.perf_counter() - started,
    )
    return _Candidate(target, rows, scorers, selection_auc, note)


def _training_rows(
    spec: ModelSpec,
    target: Target,
    y: np.ndarray,
    known: np.ndarray,
    censored: np.ndarray,
    config: TrainConfig,
) -> tuple[np.ndarray, str]:
    """The censored training rows, unless censoring leaves fewer than ``config.min_train_positives`` positives."""
    kept, available = int(y[censored].sum()), int(y[known].sum())
    if kept == available or kept >= config.min_train_positives:
        return censored, ""
    note = (
        f"{available - kept} of the {available} positive training rows are customers whose default falls after the "
        f"training slice; they were kept because only {kept} would remain (at least {config.min_train_positives} "
        "wanted), so the selection and validation measures are optimistic"
    )
    logger.warning("%s: %s: %s", spec.name, target.label, note)
    return known, note


def _mean_selection_auc(candidates: list[_Candidate]) -> dict[str, float]:
    modelled = [c.selection_auc for c in candidates if c.selection_auc]
    return {kind: float(np.mean([s[kind] for s in modelled])) for kind in CANDIDATES}


def _choose_kind(candidates: list[_Candidate], prefer_simple_within: float) -> str:
    """The GBM when its mean selection-slice AUC beats the scorecard's by more than ``prefer_simple_within``."""
    mean_auc = _mean_selection_auc(candidates)
    return "gbm" if mean_auc["gbm"] > mean_auc["scorecard"] + prefer_simple_within else "scorecard"


def _calibrate(
    candidates: list[_Candidate],
    kind: str,
    table: pd.DataFrame,
    matrix: np.ndarray,
    groups: np.ndarray,
    config: TrainConfig,
) -> tuple[list[Head], dict[str, dict[str, Head]]]:
    """Calibrate every candidate of every target on its selection rows; return the chosen heads and all.

    The calibration folds keep the rows of one value of ``groups`` (a customer) together.
    """
    chosen, every = [], {}
    params = config.calibration
    for c in candidates:
        selection = c.rows["selection"]
        y_sel = table[c.target.label].to_numpy(dtype=float)[selection]
        heads = {}
        for name, scorer in c.scorers.items():
            calibrator = None
            if not isinstance(scorer, ObservedRate):
                calibrator = ScoreCalibrator(
                    "auto",
                    params.folds,
                    params.min_log_loss_gain,
                    params.min_distinct,
                    params.bins,
                    config.random_state,
                )
                calibrator.fit(scorer.raw_score(matrix[selection]), y_sel, groups[selection])
            heads[name] = Head(c.target, scorer, calibrator)
        every[c.target.label] = heads
        chosen.append(heads[kind])
    return chosen, every


def _assemble(
    spec: ModelSpec,
    preparer: FeaturePreparer,
    heads: list[Head],
    kind: str,
    table: pd.DataFrame,
    slices: Slices,
    data_end: date | None,
    config: TrainConfig,
) -> RiskPipeline:
    common = {
        "name": spec.name,
        "preparer": preparer,
        "heads": tuple(heads),
        "kind": kind,
        "feature_config": config.features,
        "trained_as_of": data_end,
    }
    if spec.name != "late_payment":
        return CreditModel(**common)
    thresholds = tuple(t.threshold_days for t in spec.targets)
    profile = DelayProfile(thresholds).fit(table["days_beyond_terms"].to_numpy(dtype=float)[slices.train])
    return LatePaymentModel(**common, delay_profile=profile)


def _evaluate(
    c: _Candidate,
    model: RiskPipeline,
    heads: dict[str, Head],
    table: pd.DataFrame,
    matrix: np.ndarray,
    outputs: pd.DataFrame,
) -> HeadEvaluation:
    """Validation inputs of one target; ``outputs`` are the model's probability columns for every row."""
    validation, train = c.rows["validation"], c.rows["train"]
    y = table[c.target.label].to_numpy(dtype=float)[validation]
    p = outputs[c.target.output].to_numpy()[validation]
    p_train = outputs[c.target.output].to_numpy()[train]
    chosen = heads[model.kind]
    sample = (
        validation
        if len(validation) <= EXPLAIN_ROWS
        else np.random.default_rng(0).choice(validation, EXPLAIN_ROWS, replace=False)
    )
    contributions, _ = chosen.contributions(matrix[sample])
    return HeadEvaluation(
        target=c.target,
        kind=chosen.kind,
        y=y,
        p=p,
        p_train=p_train,
        p_by_candidate={name: head.probability(matrix[validation]) for name, head in heads.items()},
        selection_auc=c.selection_auc,
        calibration_method=chosen.calibrator.method_ if chosen.calibrator else "none",
        calibration_reason=getattr(chosen.calibrator, "reason_", "no calibration: observed rate"),
        calibration_strictly_increasing=chosen.calibrator is None
        or strictly_increasing(chosen.calibrator, chosen.scorer.raw_score(matrix[validation])),
        importance={name: head.scorer.importance() for name, head in heads.items()},
        contributions=contributions,
        feature_values=matrix[sample],
        note=c.note,
    )


def _metrics(
    evaluations: list[HeadEvaluation], model: RiskPipeline, table: pd.DataFrame, slices: Slices
) -> dict[str, float]:
    """Out-of-time measures, flat: ``auc``, ``brier_30``, ``gbm_auc``, ``scorecard_auc_90``, ..."""
    metrics: dict[str, float] = {}
    for e in evaluations:
        s = e.target.suffix
        metrics.update({f"{name}{s}": value for name, value in binary_metrics(e.y, e.p, e.p_train).items()})
        for name, p in e.p_by_candidate.items():
            metrics[f"{name}_auc{s}"] = auc(e.y, p)
            metrics[f"{name}_brier{s}"] = brier(e.y, p)
        for name, value in e.selection_auc.items():
            metrics[f"selection_{name}_auc{s}"] = value
        metrics[f"calibration_distinct_pd{s}"] = float(len(np.unique(e.p)))
        metrics[f"calibration_strictly_increasing{s}"] = float(e.calibration_strictly_increasing)
    if isinstance(model, LatePaymentModel):
        validation = table.iloc[slices.validation]
        settled = validation[validation["days_beyond_terms"].notna()]
        if len(settled):
            expected = model.predict_proba(settled)["expected_days_beyond_terms"].to_numpy()
            metrics["days_beyond_terms_mae"] = float(
                np.mean(np.abs(expected - settled["days_beyond_terms"].to_numpy(dtype=float)))
            )
    return metrics


def _slice_summary(
    spec: ModelSpec, table: pd.DataFrame, slices: Slices, known: dict[str, np.ndarray]
) -> dict[str, dict[str, object]]:
    """Rows, positive cases and date range of each slice (for logs, the fingerprint and the model card).

    The dates are None when the table has no ``spec.date_column`` (stratified slices).
    """
    dated = spec.date_column in table.columns
    dates = pd.to_datetime(table[spec.date_column]) if dated else None
    summary: dict[str, dict[str, object]] = {}
    for name in SLICE_NAMES:
        rows = slices.rows(name)
        usable = rows[known[spec.split_label][rows]]
        summary[name] = {
            "rows": len(rows),
            "labelled_rows": len(usable),
            "positive": int((table[spec.split_label].to_numpy()[usable] == 1).sum()),
            "first_date": dates.iloc[rows].min().date().isoformat() if dated and len(rows) else None,
            "last_date": dates.iloc[rows].max().date().isoformat() if dated and len(rows) else None,
        }
    return summary


def gate_scores(model: RiskPipeline, result: FitResult, config: TrainConfig) -> tuple[float, float]:
    """Mean AUC and Brier score of ``model`` over the targets of ``result`` on its validation slice.

    The same function scores the challenger and the champion, so both are measured on the
    same rows (targets whose validation rows lack an outcome are left out).
    """
    validation = result.validation
    outputs = model.predict(validation)
    aucs, briers = [], []
    for target in result.spec.targets:
        known = outcome_known(result.spec, validation, target, result.data_end, config.horizon_months)
        y = validation[target.label].to_numpy(dtype=float)[known]
        if len(np.unique(y)) == 2:
            p = outputs[target.output].to_numpy()[known]
            aucs.append(auc(y, p))
            briers.append(brier(y, p))
    return float(np.mean(aucs)), float(np.mean(briers))
