"""Fit the late-payment model: one payment-timing distribution, validated at issue and on invoices open later.

The out-of-time design is the late-payment table's (:func:`riskmodel.models.fit.table_design`).
The validation model learns from every invoice issued by the validation cut, as seen at
the cut (invoices then unpaid are censored there), and is measured on the validation rows:

* at issue, P(days beyond terms > k) per threshold against a scorecard fitted on the
  development rows and against the customer's own past late rate;
* at the month ends after the cut, on the invoices then open, scored as of that date:
  calibration of the conditional P(> k) by days past due, coverage of the 80 % payment-date
  interval and the error of the expected (median) date against the actual settlement.

The registered model is refitted on every invoice as seen at the data end.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import date

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from riskmodel.features.definitions import Feature, features_for
from riskmodel.models.columns import FeaturePreparer
from riskmodel.models.config import TrainConfig
from riskmodel.models.design import Design
from riskmodel.models.fit import (
    CUSTOMER,
    EXPLAIN_ROWS,
    FitResult,
    HeadEvaluation,
    _check_enough,
    _design_summary,
    _fit_scorer,
    _metrics,
    _prepare,
    drift_reference,
    table_design,
)
from riskmodel.models.metrics import auc
from riskmodel.models.pipeline import LatePaymentModel
from riskmodel.models.specs import ModelSpec, Target, outcome_end, outcome_known
from riskmodel.models.timing import HORIZON_DAYS, InvoiceTimeline, PaymentTiming, timeline_from_table

logger = logging.getLogger(__name__)

KIND = "hazard"
LATER_DATE_OUTCOME_DAYS = 180  # a month end is used for the later-date checks when this much data follows it
DPD_BUCKETS = (-np.inf, 0, 30, 60, 90, np.inf)
DPD_LABELS = ("not yet due", "1-30", "31-60", "61-90", "over 90")
TYPICAL_DELAY = (  # a customer's habits the hazard rows are placed against (PaymentTiming's typical_delay)
    "days_beyond_terms_mean_last5",
    "days_beyond_terms_mean_365d",
    "days_beyond_terms_mean_similar_size",
)


def fit_payment_timing(
    spec: ModelSpec,
    table: pd.DataFrame,
    data_end: date,
    config: TrainConfig,
    features: tuple[Feature, ...] | None = None,
) -> FitResult:
    """Fit, validate and refit the payment-timing model on the late-payment table (see the module docstring)."""
    with threadpool_limits(limits=config.threads):
        started = time.perf_counter()
        table = table.sort_values(spec.date_column, kind="stable").reset_index(drop=True)
        known = {
            t.label: outcome_known(spec, table, t, data_end, config.horizon_months) for t in spec.targets
        }
        _check_enough(spec, table, known)
        design = table_design(spec, table, known, config)
        features = features_for(spec.level, config.features) if features is None else features
        groups = table[CUSTOMER].to_numpy()
        preparer = _prepare(spec, features, table.iloc[design.development])
        matrix = preparer.transform(table)
        issued = pd.to_datetime(table[spec.date_column])
        seen = np.nonzero((issued <= design.cut).to_numpy())[0]
        timing = _fit(
            matrix[seen],
            timeline_from_table(table.iloc[seen].reset_index(drop=True), design.cut),
            preparer,
            config,
        )
        validation_model = LatePaymentModel(
            spec.name, preparer, timing, spec.targets, config.features, design.cut.date()
        )
        scored = np.concatenate([design.development, design.validation])
        outputs = validation_model.predict(table.iloc[scored]).set_axis(scored)
        logger.info("%s: validation model fitted (%.1fs)", spec.name, time.perf_counter() - started)
        evaluations = [
            _evaluate(
                spec, t, validation_model, table, matrix, outputs, known, design, groups, preparer, config
            )
            for t in spec.targets
        ]
        at_data_end = timeline_from_table(table, pd.Timestamp(data_end))
        later, later_metrics = open_invoice_checks(
            validation_model, table, at_data_end, design.cut, pd.Timestamp(data_end)
        )
        refit_preparer = _prepare(spec, features, table.iloc[design.labelled])
        refit_matrix = refit_preparer.transform(table)
        model = LatePaymentModel(
            spec.name,
            refit_preparer,
            _fit(refit_matrix, at_data_end, refit_preparer, config),
            spec.targets,
            config.features,
            data_end,
        )
        logger.info("%s: refitted on %s invoices up to %s", spec.name, f"{len(table):,}", data_end)
        model.drift_monitor = drift_reference(
            model, table.iloc[design.labelled], model.predict(table.iloc[design.labelled])
        )
        origins = _origins(evaluations, design)
        metrics = _metrics(evaluations, validation_model, table, design, origins, KIND) | later_metrics
        return FitResult(
            spec=spec,
            model=model,
            validation_model=validation_model,
            kind=KIND,
            choice_reason="one payment-timing model (discrete-time hazard, LightGBM per collection stage); "
            "at issue it is compared with a scorecard per threshold and with the customer's past late rate",
            cv_auc={},
            heads=evaluations,
            metrics=metrics,
            validation=table.iloc[design.validation].reset_index(drop=True),
            design_summary=_design_summary(spec, table, design, known, groups),
            origins=origins,
            data_end=data_end,
            latest=None,
            tables={"open_invoice_calibration": later},
        )


def _fit(
    matrix: np.ndarray, timeline: InvoiceTimeline, preparer: FeaturePreparer, config: TrainConfig
) -> PaymentTiming:
    names = list(preparer.feature_names_)
    return PaymentTiming(
        dataclasses.replace(
            config.gbm,
            learning_rate=config.timing.learning_rate,
            early_stopping_min_delta=config.timing.early_stopping_min_delta,
        ),
        tuple(preparer.monotone_),
        tuple(preparer.categorical_indices_),
        config.random_state,
        config.threads,
        typical_delay=tuple(names.index(name) for name in TYPICAL_DELAY if name in names),
    ).fit(matrix, timeline)


def past_late_rate(table: pd.DataFrame, target: Target, horizon_months: int, spec: ModelSpec) -> np.ndarray:
    """Each invoice's customer's share of earlier invoices beyond ``target``'s threshold, known before its issue.

    An earlier invoice counts once its outcome window has closed (:func:`outcome_end`)
    before the issue date; the share is smoothed towards the table's rate with one invoice.
    """
    label = table[target.label].to_numpy(dtype=float)
    closes = outcome_end(spec, table, horizon_months, target)
    done = pd.DataFrame(
        {CUSTOMER: table[CUSTOMER].to_numpy(), "at": closes.to_numpy().astype("datetime64[ns]"), "y": label}
    ).dropna(subset=["y"])
    done = done.sort_values("at", kind="stable")
    done["n"] = done.groupby(CUSTOMER).cumcount() + 1.0
    done["late"] = done.groupby(CUSTOMER)["y"].cumsum()
    query = pd.DataFrame(
        {
            CUSTOMER: table[CUSTOMER].to_numpy(),
            "at": pd.to_datetime(table["issue_date"]).to_numpy().astype("datetime64[ns]"),
            "row": np.arange(len(table)),
        }
    ).sort_values("at", kind="stable")
    joined = pd.merge_asof(
        query, done[[CUSTOMER, "at", "n", "late"]], on="at", by=CUSTOMER, allow_exact_matches=False
    ).sort_values("row")
    base = float(np.nanmean(label)) if np.isfinite(label).any() else 0.0
    return ((joined["late"].fillna(0.0) + base) / (joined["n"].fillna(0.0) + 1.0)).to_numpy()


def _evaluate(
    spec: ModelSpec,
    target: Target,
    model: LatePaymentModel,
    table: pd.DataFrame,
    matrix: np.ndarray,
    outputs: pd.DataFrame,
    known: dict[str, np.ndarray],
    design: Design,
    groups: np.ndarray,
    preparer: FeaturePreparer,
    config: TrainConfig,
) -> HeadEvaluation:
    """Validation at issue of one threshold, with the scorecard and the past late rate beside it."""
    label = target.label
    validation = design.validation[known[label][design.validation]]
    development = design.development[known[label][design.development]]
    y_all = table[label].to_numpy(dtype=float)
    y = y_all[validation]
    candidates = {KIND: outputs.loc[validation, target.output].to_numpy()}
    if len(np.unique(y_all[development])) == 2:
        scorecard = _fit_scorer("scorecard", matrix, y_all, development, preparer, config)
        candidates["scorecard"] = 1.0 / (1.0 + np.exp(-scorecard.raw_score(matrix[validation])))
    candidates["past_late_rate"] = past_late_rate(table, target, config.horizon_months, spec)[validation]
    sample = (
        validation
        if len(validation) <= EXPLAIN_ROWS
        else np.random.default_rng(0).choice(validation, EXPLAIN_ROWS, replace=False)
    )
    contributions, _ = model.contributions(table.iloc[sample], output=target.output)
    return HeadEvaluation(
        target=target,
        kind=KIND,
        y=y,
        p=candidates[KIND],
        p_train=outputs.loc[development, target.output].to_numpy(),
        p_by_candidate=candidates,
        cv_auc={},
        calibration_method="none",
        calibration_reason="probabilities come from the hazard model's survival curve, not recalibrated",
        importance={KIND: model.importance()},
        contributions=contributions,
        feature_values=matrix[sample],
        groups=groups[validation],
    )


def _origins(evaluations: list[HeadEvaluation], design: Design) -> pd.DataFrame:
    """One row per threshold at the validation cut: rows, positives and the AUC of each comparison."""
    rows = []
    for e in evaluations:
        rows.append(
            {
                "target": e.target.label,
                "origin": f"validation ({design.cut.date()})",
                "fit_rows": len(design.development),
                "test_rows": len(e.y),
                "test_positive": int(e.y.sum()),
                "test_positive_customers": len(np.unique(e.groups[e.y == 1])),
            }
            | {f"{name}_auc": auc(e.y, p) for name, p in e.p_by_candidate.items()}
        )
    origins = pd.DataFrame(rows)
    origins["chosen_auc"] = origins[f"{KIND}_auc"]
    return origins


def open_invoice_checks(
    model: LatePaymentModel,
    table: pd.DataFrame,
    timeline: InvoiceTimeline,
    cut: pd.Timestamp,
    data_end: pd.Timestamp,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Score the invoices open at each month end after ``cut`` as of that date, against what happened.

    ``timeline`` is the table's :class:`~riskmodel.models.timing.InvoiceTimeline` seen at ``data_end``.

    Month ends with at least :data:`LATER_DATE_OUTCOME_DAYS` of data after them are used.
    Returns the calibration table (month-end invoices by days-past-due bucket and
    threshold: rows, mean P(> k), observed share) and the metrics: invoices scored, how
    many had P(> k) < 1 although more than ``k`` days late or a date before the month end
    (both must be 0), the share of invoices paid inside their 80 % interval (an invoice
    still unpaid at ``data_end`` counts as outside once past its P90 day, and is left out
    before that; ``open_interval_outcomes`` counts those judged), and the mean absolute
    error in days of the expected (median) date on the settled ones.
    """
    month_ends = pd.date_range(
        cut + pd.Timedelta(days=1), data_end - pd.Timedelta(days=LATER_DATE_OUTCOME_DAYS), freq="ME"
    )
    due = pd.to_datetime(table["due_date"])
    issued = pd.to_datetime(table["issue_date"])
    closed = pd.to_datetime(table["settled_date"]).fillna(pd.to_datetime(table["written_off_date"]))
    parts = []
    for month_end in month_ends:
        open_rows = np.nonzero(((issued <= month_end) & ~(closed <= month_end)).to_numpy())[0]
        if not len(open_rows):
            continue
        days = (month_end - due.iloc[open_rows]).dt.days.to_numpy(dtype=float)
        scored = model.predict_timing(
            table.iloc[open_rows],
            days_past_due=days,
            disputed=timeline.disputed_at(open_rows, days),
            paid_share=timeline.paid_share_at(open_rows, days),
        )
        parts.append(scored.assign(row=open_rows, days_past_due=days, month_end=month_end))
    if not parts:
        return pd.DataFrame(), {}
    frame = pd.concat(parts, ignore_index=True)
    outputs = list(model.targets)
    below_one = sum(
        int(((frame["days_past_due"] > (t.threshold_days or 0)) & (frame[t.output] < 1)).sum())
        for t in outputs
    )
    before = int((frame["days_beyond_terms_p10"] <= frame["days_past_due"]).sum())
    actual = timeline.paid_day[frame["row"]]
    written_off = pd.to_datetime(table["written_off_date"]).notna().to_numpy()[frame["row"]]
    actual = np.where(np.isnan(actual) & written_off, HORIZON_DAYS, actual)
    settled = ~np.isnan(actual)
    inside = (frame["days_beyond_terms_p10"] <= actual) & (actual <= frame["days_beyond_terms_p90"])
    # still unpaid at the data end: a miss when already past its P90 date, unknown otherwise
    known_outcome = settled | (timeline.observed_until[frame["row"]] > frame["days_beyond_terms_p90"])
    frame["bucket"] = pd.cut(frame["days_past_due"], DPD_BUCKETS, labels=DPD_LABELS)
    rows = []
    for t in outputs:
        y = table[t.label].to_numpy(dtype=float)[frame["row"]]
        undecided = (frame["days_past_due"] <= (t.threshold_days or 0)) & ~np.isnan(y)
        for bucket, part in frame[undecided].groupby("bucket", observed=True):
            rows.append(
                {
                    "threshold": t.output,
                    "days_past_due": bucket,
                    "invoices": len(part),
                    "mean_p": float(part[t.output].mean()),
                    "observed": float(np.mean(y[part.index])),
                }
            )
    metrics = {
        "open_invoices_scored": float(len(frame)),
        "open_p_below_one_when_late": float(below_one),
        "open_dates_before_as_of": float(before),
        "open_interval_coverage": float(inside[known_outcome].mean())
        if known_outcome.any()
        else float("nan"),
        "open_interval_outcomes": float(known_outcome.sum()),
        "open_date_mae_days": float(
            np.mean(np.abs(frame["expected_days_beyond_terms"][settled] - actual[settled]))
        )
        if settled.any()
        else float("nan"),
        "open_month_ends": float(len(parts)),
    }
    return pd.DataFrame(rows), metrics
