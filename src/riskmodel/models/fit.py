"""Fit one model from its training table: design, rolling-origin choice, cross-fitted calibration, validation, refit.

Pure computation (no MLflow): :func:`fit_model` returns a :class:`FitResult` that
:func:`riskmodel.models.train.log_fit` logs and registers. The steps
(:mod:`riskmodel.models.design` for the rows):

1. On each rolling origin inside the development period, the GBM and the scorecard are
   fitted on the rows whose outcome windows closed by the origin and score the next block.
2. The GBM is chosen only when its AUC gain over the scorecard is significant (90 %
   customer-clustered bootstrap interval above ``prefer_simple_within``); otherwise the
   simpler scorecard is kept, and the reason says so.
3. Each candidate is calibrated on cross-fitted scores: out-of-fold scores of models fitted
   on the same rows with one group of customers left out at a time, so the calibration map
   sees rows its model did not and scores on the scale of a model fitted on that much data.
4. The validation model, fitted on all development rows, is measured on the validation
   rows after the gap: the reported out-of-time measures, with customer-clustered intervals.
5. The registered model is refitted with the chosen settings on every row whose outcome
   is known at the data end, and calibrated the same way on those rows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

from riskmodel.exceptions import NotEnoughDataError
from riskmodel.features.definitions import Feature, features_for
from riskmodel.models.calibration import ScoreCalibrator, strictly_increasing
from riskmodel.models.columns import FeaturePreparer
from riskmodel.models.config import TrainConfig
from riskmodel.models.design import Design, Fold, stratified_design, time_design
from riskmodel.models.gbm import MonotoneGBM
from riskmodel.models.heads import Head, ObservedRate
from riskmodel.models.metrics import auc, binary_metrics, brier
from riskmodel.models.pipeline import CreditModel, LatePaymentModel, RiskPipeline
from riskmodel.models.scorecard import BinnedScorecard
from riskmodel.models.specs import ModelSpec, Target, outcome_end, outcome_known
from riskmodel.validation.drift import DriftMonitor
from riskmodel.validation.stats import RankedScores, cluster_resamples, clustered_intervals

logger = logging.getLogger(__name__)

CANDIDATES = ("gbm", "scorecard")
EXPLAIN_ROWS = 2000  # validation rows whose contributions are kept for the SHAP summary
DRIFT_FEATURES = 8  # most important features whose training distribution the model carries
CUSTOMER = "customer_id"  # bootstrap and calibration folds keep each customer's rows together
RESAMPLES = 300  # customer-clustered bootstrap resamples of the choice and of the validation intervals
LEVEL = 0.9  # two-sided level of those intervals
DESIGN_PARTS = ("development", "validation", "labelled")


@dataclass
class HeadEvaluation:
    """Out-of-time validation of one target of the fitted model (inputs of the metrics and plots)."""

    target: Target
    kind: str
    y: np.ndarray
    p: np.ndarray
    p_train: np.ndarray
    p_by_candidate: dict[str, np.ndarray]
    cv_auc: dict[str, float]
    calibration_method: str
    importance: dict[str, np.ndarray]
    contributions: np.ndarray
    feature_values: np.ndarray
    groups: np.ndarray
    note: str = ""
    calibration_reason: str = ""
    calibration_strictly_increasing: bool = True  # calibrated PD rises with every distinct validation score


@dataclass
class FitResult:
    """A fitted model with everything needed to log, compare and register it.

    ``model`` is the registered model (refitted on every labelled row for dated tables);
    ``validation_model`` is the one fitted on the development rows only, whose scores on
    ``validation`` give every reported out-of-time measure and the champion gate.
    ``origins`` has one row per target and rolling origin (and the validation cut).
    """

    spec: ModelSpec
    model: RiskPipeline
    validation_model: RiskPipeline
    kind: str
    choice_reason: str
    cv_auc: dict[str, float]
    heads: list[HeadEvaluation]
    metrics: dict[str, float]
    validation: pd.DataFrame
    design_summary: dict[str, dict[str, object]]
    origins: pd.DataFrame
    data_end: date | None  # None for tables without dates (fit_model_on_split)
    latest: pd.DataFrame | None = None  # rows of the table's latest date (grade coverage)
    notes: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # further validation tables, logged as CSV


@dataclass
class _CrossFit:
    """One target's rolling-origin fits: out-of-fold raw scores per candidate and the per-fold table."""

    target: Target
    folds: list[tuple[int, Fold, np.ndarray]]  # fold number, fold, test rows with a known outcome
    oof: dict[str, np.ndarray]  # raw score per candidate, NaN on rows no fold scored
    table: pd.DataFrame
    note: str = ""

    @property
    def modelled(self) -> bool:
        return bool(self.folds)

    @property
    def cv_auc(self) -> dict[str, float]:
        if not self.modelled:
            return {}
        return {kind: float(self.table[f"{kind}_auc"].mean()) for kind in CANDIDATES}

    def scored_rows(self) -> np.ndarray:
        return np.concatenate([test for _, _, test in self.folds])


def fit_model(
    spec: ModelSpec,
    table: pd.DataFrame,
    data_end: date,
    config: TrainConfig,
    features: tuple[Feature, ...] | None = None,
) -> FitResult:
    """Train, choose, calibrate, validate and refit ``spec``'s model on ``table`` (its training table).

    ``features`` are the candidate features (default: the registry features of ``spec.level``).

    Raises
    ------
    NotEnoughDataError
        When the table has too few rows, no positive case of the first target, or too
        little history for a development period, a gap and a validation period.
    """
    if spec.level == "invoice":
        from riskmodel.models.fit_timing import fit_payment_timing  # it builds on this module

        try:
            return fit_payment_timing(spec, table, data_end, config, features)
        except NotEnoughDataError as err:
            raise NotEnoughDataError(f"{spec.name}: {spec.split_label}: {err}") from err
    with threadpool_limits(limits=config.threads):
        table = table.sort_values(spec.date_column, kind="stable").reset_index(drop=True)
        known = {
            t.label: outcome_known(spec, table, t, data_end, config.horizon_months) for t in spec.targets
        }
        _check_enough(spec, table, known)
        try:
            design = table_design(spec, table, known, config)
        except NotEnoughDataError as err:
            raise NotEnoughDataError(f"{spec.name}: {spec.split_label}: {err}") from err
        features = features_for(spec.level, config.features) if features is None else features
        dates = pd.to_datetime(table[spec.date_column])
        latest = table[dates == dates.max()].reset_index(drop=True)
        return _fit(spec, table, known, design, features, data_end, config, latest)


def table_design(
    spec: ModelSpec, table: pd.DataFrame, known: dict[str, np.ndarray], config: TrainConfig
) -> Design:
    """The out-of-time design of a dated training table sorted by date (:func:`~riskmodel.models.design.time_design`).

    ``known`` holds each target's mask of outcomes known at the data end; the split label's
    positive cases place the cut.
    """
    split_positive = known[spec.split_label] & (table[spec.split_label] == 1).to_numpy()
    return time_design(
        table[spec.date_column],
        outcome_end(spec, table, config.horizon_months),
        known[spec.split_label],
        split_positive,
        config.validation_share,
        config.cv_folds,
        config.min_train_positives,
    )


def fit_model_on_split(
    spec: ModelSpec,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    config: TrainConfig,
    features: tuple[Feature, ...] | None = None,
    data_end: date | None = None,
) -> FitResult:
    """:func:`fit_model` for a table without dates: ``holdout`` is the validation slice.

    ``train`` is the development part: ``config.cv_folds`` stratified folds of it (seeded by
    ``config.random_state``) choose the model and cross-fit its calibration, and the
    model is then fitted on all of it. Every row of ``holdout`` is used for validation
    only. ``features`` defaults to the registry features of ``spec.level``; ``data_end``
    (None when unknown) is recorded as the model's ``trained_as_of``.

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
            design = stratified_design(
                train[spec.split_label].to_numpy(), len(holdout), config.cv_folds, config.random_state
            )
        except NotEnoughDataError as err:
            raise NotEnoughDataError(f"{spec.name}: {spec.split_label}: {err}") from err
        features = features_for(spec.level, config.features) if features is None else features
        return _fit(spec, table, known, design, features, data_end, config, None)


def _fit(
    spec: ModelSpec,
    table: pd.DataFrame,
    known: dict[str, np.ndarray],
    design: Design,
    features: tuple[Feature, ...],
    data_end: date | None,
    config: TrainConfig,
    latest: pd.DataFrame | None,
) -> FitResult:
    """Rolling-origin choice, cross-fitted calibration, validation and refit on a given design."""
    primary = spec.targets[0]
    groups = table[CUSTOMER if CUSTOMER in table.columns else spec.key_column].to_numpy()
    preparer = _prepare(spec, features, table.iloc[design.development])
    matrix = preparer.transform(table)
    crossfits = [
        _cross_fit(
            spec, t, table, matrix, known[t.label], design, groups, preparer, config, required=t is primary
        )
        for t in spec.targets
    ]
    kind, choice_reason = _choose_kind(crossfits, table, groups, config)
    dev_heads = {
        c.target.label: _development_heads(c, table, matrix, known, design, groups, preparer, config)
        for c in crossfits
    }
    validation_model = _assemble(
        spec, preparer, [dev_heads[t.label][kind] for t in spec.targets], kind,
        design.cut.date() if design.cut is not None else data_end, config,
    )  # fmt: skip
    outputs = validation_model.predict(table.iloc[np.concatenate([design.development, design.validation])])
    outputs.index = np.concatenate([design.development, design.validation])
    model = validation_model
    if design.cut is not None:
        model = _refit(
            spec, features, crossfits, kind, dev_heads, table, known, design, groups, data_end, config
        )
    model.drift_monitor = drift_reference(
        model, table.iloc[design.labelled], model.predict(table.iloc[design.labelled])
    )
    evaluations = [
        _evaluate(c, kind, dev_heads[c.target.label], table, matrix, outputs, known, design, groups)
        for c in crossfits
    ]
    origins = _origins_table(crossfits, evaluations, design, kind)
    metrics = _metrics(evaluations, validation_model, table, design, origins, kind)
    notes = [f"{e.target.label}: {e.note}" for e in evaluations if e.note]
    return FitResult(
        spec=spec,
        model=model,
        validation_model=validation_model,
        kind=kind,
        choice_reason=choice_reason,
        cv_auc=_mean_cv_auc(crossfits),
        heads=evaluations,
        metrics=metrics,
        validation=table.iloc[design.validation].reset_index(drop=True),
        design_summary=_design_summary(spec, table, design, known, groups),
        origins=origins,
        data_end=data_end,
        latest=latest,
        notes=notes,
    )


def _prepare(spec: ModelSpec, features: tuple[Feature, ...], rows: pd.DataFrame) -> FeaturePreparer:
    preparer = FeaturePreparer(features).fit(rows)
    if not preparer.feature_names_:
        raise NotEnoughDataError(
            f"{spec.name}: no feature carries information in the training rows ({len(preparer.dropped_)} dropped)"
        )
    return preparer


def drift_reference(model: RiskPipeline, rows: pd.DataFrame, outputs: pd.DataFrame) -> DriftMonitor:
    """A :class:`DriftMonitor` of the first output and the ``DRIFT_FEATURES`` most important features on ``rows``.

    Importance is the chosen scorer's (split gain of a GBM, term spread of a scorecard);
    features it never uses are left out.
    """
    output = model.outputs[0]
    importance = model.importance()
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


def _positive_weights(y: np.ndarray, power: float) -> np.ndarray:
    """Weight 1 for negatives and (n_negative / n_positive) ** power for positives."""
    n_pos = max(float(y.sum()), 1.0)
    return np.where(y == 1, ((len(y) - n_pos) / n_pos) ** power, 1.0)


def _fit_scorer(
    kind: str,
    matrix: np.ndarray,
    y: np.ndarray,
    rows: np.ndarray,
    preparer: FeaturePreparer,
    config: TrainConfig,
) -> MonotoneGBM | BinnedScorecard:
    """One candidate fitted on ``rows`` (in their order: a GBM stops early on the last of them)."""
    X, y_fit = matrix[rows], y[rows]
    weight = _positive_weights(y_fit, config.imbalance_power)
    categorical = tuple(preparer.categorical_indices_)
    if kind == "gbm":
        return MonotoneGBM(
            config.gbm, tuple(preparer.monotone_), categorical, config.random_state, config.threads
        ).fit(X, y_fit, weight)
    return BinnedScorecard(
        config.scorecard.n_bins, config.scorecard.C, categorical, tuple(preparer.monotone_)
    ).fit(X, y_fit, weight)


def _both(y: np.ndarray, rows: np.ndarray) -> bool:
    return len(np.unique(y[rows])) == 2


def _cross_fit(
    spec: ModelSpec,
    target: Target,
    table: pd.DataFrame,
    matrix: np.ndarray,
    known: np.ndarray,
    design: Design,
    groups: np.ndarray,
    preparer: FeaturePreparer,
    config: TrainConfig,
    required: bool,
) -> _CrossFit:
    """Fit both candidates at every fold of ``design`` and score the fold's test rows.

    The fold table has the rows of :func:`_origins_table` (``groups``: the customer of each row).
    """
    started = time.perf_counter()
    y = table[target.label].to_numpy(dtype=float)
    oof = {kind: np.full(len(table), np.nan) for kind in CANDIDATES}
    folds, rows = [], []
    for number, fold in enumerate(design.folds, start=1):
        fit, test = fold.fit[known[fold.fit]], fold.test[known[fold.test]]
        if not (_both(y, fit) and _both(y, test)):
            continue
        aucs = {}
        for kind in CANDIDATES:
            oof[kind][test] = _fit_scorer(kind, matrix, y, fit, preparer, config).raw_score(matrix[test])
            aucs[f"{kind}_auc"] = auc(y[test], oof[kind][test])
        folds.append((number, fold, test))
        rows.append(
            {
                "target": target.label,
                "origin": str(fold.origin.date()) if fold.origin is not None else f"fold {number}",
                "fit_rows": len(fit),
                "test_rows": len(test),
                "test_positive": int(y[test].sum()),
                "test_positive_customers": len(np.unique(groups[test][y[test] == 1])),
            }
            | aucs
        )
    frame = pd.DataFrame(rows)
    if folds:
        logger.info(
            "%s: %s: %d rolling fold(s), mean AUC gbm %.3f scorecard %.3f (%.1fs)",
            spec.name,
            target.label,
            len(folds),
            frame["gbm_auc"].mean(),
            frame["scorecard_auc"].mean(),
            time.perf_counter() - started,
        )
        return _CrossFit(target, folds, oof, frame)
    message = f"no fold of the development period has both outcomes of {target.label} to fit on and to test"
    if required:
        raise NotEnoughDataError(f"{spec.name}: {message}")
    logger.warning("%s: %s; P uses the observed training rate (no model)", spec.name, message)
    return _CrossFit(target, [], oof, frame, note=f"observed rate used: {message}")


def _choose_kind(
    crossfits: list[_CrossFit], table: pd.DataFrame, groups: np.ndarray, config: TrainConfig
) -> tuple[str, str]:
    """The GBM when the lower end of the clustered interval of its mean fold AUC gain exceeds ``prefer_simple_within``."""
    pairs = []
    for c in crossfits:
        y = table[c.target.label].to_numpy(dtype=float)
        for _, _, test in c.folds:
            pairs.append((test, *(RankedScores(y[test], c.oof[kind][test]) for kind in CANDIDATES)))
    if not pairs:
        return "scorecard", "no rolling fold to compare on; the simpler scorecard is kept"
    codes = np.unique(groups, return_inverse=True)[1]
    gains = []
    for weights in cluster_resamples(codes, RESAMPLES, config.random_state):
        gains.append(np.nanmean([g.auc_ks(weights[t])[0] - s.auc_ks(weights[t])[0] for t, g, s in pairs]))
    fold_tables = pd.concat([c.table for c in crossfits if c.modelled])
    estimate = float(np.mean(fold_tables["gbm_auc"] - fold_tables["scorecard_auc"]))
    low, high = np.nanquantile(gains, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    stated = (
        f"GBM AUC gain over the scorecard {estimate:+.4f} (90 % customer-clustered interval {low:+.4f} to "
        f"{high:+.4f}) over {len(pairs)} rolling fold(s)"
    )
    if low > config.prefer_simple_within:
        return "gbm", f"{stated}: significant, the GBM is chosen"
    return "scorecard", f"{stated}: not significant, the simpler scorecard is kept"


def _calibrator(raw: np.ndarray, y: np.ndarray, groups: np.ndarray, config: TrainConfig) -> ScoreCalibrator:
    params = config.calibration
    return ScoreCalibrator(
        "auto", params.folds, params.min_log_loss_gain, params.min_distinct, params.bins, config.random_state
    ).fit(raw, y, groups)


def _development_heads(
    c: _CrossFit,
    table: pd.DataFrame,
    matrix: np.ndarray,
    known: dict[str, np.ndarray],
    design: Design,
    groups: np.ndarray,
    preparer: FeaturePreparer,
    config: TrainConfig,
) -> dict[str, Head]:
    """Both candidates fitted on all development rows, each with a cross-fitted calibration.

    Undated tables reuse the stratified folds' out-of-fold scores; dated tables cross-fit
    on development rows by customer (:func:`_cross_fitted_raw`), since the rolling origins'
    models, fitted on much less data, score on another scale.
    """
    y = table[c.target.label].to_numpy(dtype=float)
    rows = design.development[known[c.target.label][design.development]]
    if not c.modelled or not _both(y, rows):
        return dict.fromkeys(CANDIDATES, Head(c.target, ObservedRate(y[rows].sum(), len(rows))))
    heads = {}
    for kind in CANDIDATES:
        if design.cut is None:
            scored = c.scored_rows()
            raw = c.oof[kind][scored]
        else:
            scored, raw = _cross_fitted_raw(kind, matrix, y, rows, groups, preparer, config)
        heads[kind] = Head(
            c.target,
            _fit_scorer(kind, matrix, y, rows, preparer, config),
            _calibrator(raw, y[scored], groups[scored], config),
        )
    return heads


def _cross_fitted_raw(
    kind: str,
    matrix: np.ndarray,
    y: np.ndarray,
    rows: np.ndarray,
    groups: np.ndarray,
    preparer: FeaturePreparer,
    config: TrainConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, raw scores) of ``rows``, each scored by a ``kind`` model fitted without its customer's rows.

    ``config.cv_folds`` (at least 2) folds grouped by customer and stratified by outcome; a
    fold whose fitting rows lack an outcome scores nothing.
    """
    n_splits = int(min(max(config.cv_folds, 2), len(np.unique(groups[rows][y[rows] == 1]))))
    if n_splits < 2:
        raise NotEnoughDataError(
            f"cross-fitted calibration needs positive cases of 2 customers; got {n_splits}"
        )
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=config.random_state)
    scored, raw = [], []
    for fit, test in folds.split(np.zeros((len(rows), 1)), y[rows], groups[rows]):
        if not _both(y, rows[fit]):
            continue
        model = _fit_scorer(kind, matrix, y, rows[fit], preparer, config)
        scored.append(rows[test])
        raw.append(model.raw_score(matrix[rows[test]]))
    return np.concatenate(scored), np.concatenate(raw)


def _refit(
    spec: ModelSpec,
    features: tuple[Feature, ...],
    crossfits: list[_CrossFit],
    kind: str,
    dev_heads: dict[str, dict[str, Head]],
    table: pd.DataFrame,
    known: dict[str, np.ndarray],
    design: Design,
    groups: np.ndarray,
    data_end: date | None,
    config: TrainConfig,
) -> RiskPipeline:
    """The chosen kind refitted on every labelled row, with calibration cross-fitted on those rows."""
    preparer = _prepare(spec, features, table.iloc[design.labelled])
    matrix = preparer.transform(table)
    heads = []
    for c in crossfits:
        y = table[c.target.label].to_numpy(dtype=float)
        rows = design.labelled[known[c.target.label][design.labelled]]
        if isinstance(dev_heads[c.target.label][kind].scorer, ObservedRate) or not _both(y, rows):
            heads.append(Head(c.target, ObservedRate(y[rows].sum(), len(rows))))
            continue
        scored, raw = _cross_fitted_raw(kind, matrix, y, rows, groups, preparer, config)
        heads.append(
            Head(
                c.target,
                _fit_scorer(kind, matrix, y, rows, preparer, config),
                _calibrator(raw, y[scored], groups[scored], config),
            )
        )
    logger.info(
        "%s: refitted the %s on %s labelled rows up to %s",
        spec.name,
        kind,
        f"{len(design.labelled):,}",
        data_end,
    )
    return _assemble(spec, preparer, heads, kind, data_end, config)


def _mean_cv_auc(crossfits: list[_CrossFit]) -> dict[str, float]:
    modelled = [c.cv_auc for c in crossfits if c.modelled]
    return {kind: float(np.mean([s[kind] for s in modelled])) for kind in CANDIDATES}


def _assemble(
    spec: ModelSpec,
    preparer: FeaturePreparer,
    heads: list[Head],
    kind: str,
    trained_as_of: date | None,
    config: TrainConfig,
) -> CreditModel:
    common = {
        "name": spec.name,
        "preparer": preparer,
        "heads": tuple(heads),
        "kind": kind,
        "feature_config": config.features,
        "trained_as_of": trained_as_of,
    }
    return CreditModel(**common)


def _evaluate(
    c: _CrossFit,
    kind: str,
    heads: dict[str, Head],
    table: pd.DataFrame,
    matrix: np.ndarray,
    outputs: pd.DataFrame,
    known: dict[str, np.ndarray],
    design: Design,
    groups: np.ndarray,
) -> HeadEvaluation:
    """Validation inputs of one target; ``outputs`` are the validation model's outputs, indexed by row."""
    label = c.target.label
    validation = design.validation[known[label][design.validation]]
    development = design.development[known[label][design.development]]
    y = table[label].to_numpy(dtype=float)[validation]
    p = outputs.loc[validation, c.target.output].to_numpy()
    chosen = heads[kind]
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
        p_train=outputs.loc[development, c.target.output].to_numpy(),
        p_by_candidate={name: head.probability(matrix[validation]) for name, head in heads.items()},
        cv_auc=c.cv_auc,
        calibration_method=chosen.calibrator.method_ if chosen.calibrator else "none",
        calibration_reason=getattr(chosen.calibrator, "reason_", "no calibration: observed rate"),
        calibration_strictly_increasing=chosen.calibrator is None
        or strictly_increasing(chosen.calibrator, chosen.scorer.raw_score(matrix[validation])),
        importance={name: head.scorer.importance() for name, head in heads.items()},
        contributions=contributions,
        feature_values=matrix[sample],
        groups=groups[validation],
        note=c.note,
    )


def _origins_table(
    crossfits: list[_CrossFit], evaluations: list[HeadEvaluation], design: Design, kind: str
) -> pd.DataFrame:
    """Per target: each rolling fold (its fold table), then the validation cut, with rows, positives, distinct positive customers and AUC."""
    frames = []
    for c, e in zip(crossfits, evaluations, strict=True):
        validation = {
            "target": c.target.label,
            "origin": f"validation ({design.cut.date()})" if design.cut is not None else "hold-out",
            "fit_rows": len(design.development),
            "test_rows": len(e.y),
            "test_positive": int(e.y.sum()),
            "test_positive_customers": len(np.unique(e.groups[e.y == 1])),
            "gbm_auc": auc(e.y, e.p_by_candidate["gbm"]),
            "scorecard_auc": auc(e.y, e.p_by_candidate["scorecard"]),
        }
        frames.append(pd.concat([c.table, pd.DataFrame([validation])], ignore_index=True))
    origins = pd.concat(frames, ignore_index=True)
    origins["chosen_auc"] = origins[f"{kind}_auc"]
    return origins


def _metrics(
    evaluations: list[HeadEvaluation],
    model: RiskPipeline,
    table: pd.DataFrame,
    design: Design,
    origins: pd.DataFrame,
    kind: str,
) -> dict[str, float]:
    """Out-of-time measures, flat: ``auc``, ``auc_ci_low``, ``brier_30``, ``cv_gbm_auc``, ``rolling_auc_mean``, ..."""
    metrics: dict[str, float] = {}
    for e in evaluations:
        s = e.target.suffix
        metrics.update({f"{name}{s}": value for name, value in binary_metrics(e.y, e.p, e.p_train).items()})
        metrics.update(
            {f"{name}{s}": value for name, value in clustered_intervals(e.y, e.p, e.groups).items()}
        )
        metrics[f"n_positive_customers{s}"] = float(len(np.unique(e.groups[e.y == 1])))
        for name, p in e.p_by_candidate.items():
            metrics[f"{name}_auc{s}"] = auc(e.y, p)
            metrics[f"{name}_brier{s}"] = brier(e.y, p)
        for name, value in e.cv_auc.items():
            metrics[f"cv_{name}_auc{s}"] = value
        by_origin = origins.loc[origins["target"] == e.target.label, "chosen_auc"].dropna()
        metrics[f"rolling_auc_mean{s}"] = float(by_origin.mean()) if len(by_origin) else float("nan")
        metrics[f"rolling_auc_min{s}"] = float(by_origin.min()) if len(by_origin) else float("nan")
        metrics[f"calibration_distinct_pd{s}"] = float(len(np.unique(e.p)))
        metrics[f"calibration_strictly_increasing{s}"] = float(e.calibration_strictly_increasing)
    if isinstance(model, LatePaymentModel):
        validation = table.iloc[design.validation]
        settled = validation[validation["days_beyond_terms"].notna()]
        if len(settled):
            expected = model.predict_proba(settled)["expected_days_beyond_terms"].to_numpy()
            metrics["days_beyond_terms_mae"] = float(
                np.mean(np.abs(expected - settled["days_beyond_terms"].to_numpy(dtype=float)))
            )
    return metrics


def _design_summary(
    spec: ModelSpec, table: pd.DataFrame, design: Design, known: dict[str, np.ndarray], groups: np.ndarray
) -> dict[str, dict[str, object]]:
    """Rows, positive rows, distinct positive customers and date range of development, validation and refit rows.

    The dates are None when the table has no ``spec.date_column`` (undated tables).
    """
    dated = spec.date_column in table.columns
    dates = pd.to_datetime(table[spec.date_column]) if dated else None
    y = table[spec.split_label].to_numpy()
    summary: dict[str, dict[str, object]] = {}
    for name in DESIGN_PARTS:
        rows = design.rows(name)
        usable = rows[known[spec.split_label][rows]]
        positive = usable[y[usable] == 1]
        summary[name] = {
            "rows": len(rows),
            "labelled_rows": len(usable),
            "positive": len(positive),
            "positive_customers": len(np.unique(groups[positive])),
            "first_date": dates.iloc[rows].min().date().isoformat() if dated and len(rows) else None,
            "last_date": dates.iloc[rows].max().date().isoformat() if dated and len(rows) else None,
        }
    summary["validation"]["cut"] = design.cut.date().isoformat() if design.cut is not None else None
    summary["development"]["folds"] = len(design.folds)
    return summary


def gate_scores(
    model: RiskPipeline, result: FitResult, config: TrainConfig, rows: np.ndarray | None = None
) -> tuple[float, float]:
    """Mean AUC and Brier score of ``model`` over the targets of ``result`` on its validation rows.

    The same function scores the challenger (its validation model) and the champion, so both
    are measured on the same rows; ``rows`` (a boolean mask of ``result.validation``) keeps
    a subset. Targets whose rows lack an outcome are left out.
    """
    validation = result.validation if rows is None else result.validation[rows].reset_index(drop=True)
    outputs = model.predict(validation)
    aucs, briers = [], []
    for target in result.spec.targets:
        known = (
            outcome_known(result.spec, validation, target, result.data_end, config.horizon_months)
            if result.data_end is not None
            else validation[target.label].notna().to_numpy()
        )
        y = validation[target.label].to_numpy(dtype=float)[known]
        if len(np.unique(y)) == 2:
            p = outputs[target.output].to_numpy()[known]
            aucs.append(auc(y, p))
            briers.append(brier(y, p))
    return float(np.mean(aucs)) if aucs else float("nan"), float(np.mean(briers)) if briers else float("nan")
