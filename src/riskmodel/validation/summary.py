"""Validation tables of a champion on its out-of-time rows: discrimination, calibration, benchmark, sign-off."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskmodel.models.card import FEW_VALIDATION_POSITIVES
from riskmodel.models.metrics import brier, calibration_slope_intercept
from riskmodel.policy.grades import GradeFunction
from riskmodel.validation.data import OutOfTimeData
from riskmodel.validation.stats import clustered_intervals, discrimination_table, grade_calibration

LOGGED_NAMES = {"AUC": "auc", "Gini": "gini", "KS": "ks"}


def stack_tables(tables: Mapping[str, pd.DataFrame], key: str = "model") -> pd.DataFrame:
    """One frame of several models' tables, with the model's name in a first column ``key``."""
    if not tables:
        return pd.DataFrame(columns=[key])
    return pd.concat(tables, names=[key, None]).droplevel(1).reset_index()


def overview_table(data: Mapping[str, OutOfTimeData]) -> pd.DataFrame:
    """One row per champion: version, run, model family, data end and the out-of-time slice it is judged on."""
    rows = []
    for name, oot in data.items():
        run = oot.run
        validation = oot.rows("validation", oot.spec.targets[0])
        dates = pd.to_datetime(oot.table[oot.spec.date_column]).iloc[validation].dt.date
        y, _ = oot.outcomes(oot.spec.targets[0])
        customers = oot.groups(oot.spec.targets[0])
        rows.append(
            {
                "model": name,
                "registered_model": oot.spec.registered_name,
                "version": run.version,
                "run_id": run.run_id,
                "family": run.model.kind,
                "features": len(run.model.feature_names),
                "data_end": run.data_end.isoformat(),
                "out_of_time_from": dates.min() if len(dates) else None,
                "out_of_time_to": dates.max() if len(dates) else None,
                "out_of_time_rows": len(y),
                "events": int(y.sum()),
                "distinct_customers_with_events": len(np.unique(customers[y == 1])),
                "same_ledger_as_training": oot.ledger_matches,
            }
        )
    return pd.DataFrame(rows)


def calibration_measures(data: OutOfTimeData) -> pd.DataFrame:
    """Observed rate, mean prediction, Brier score, calibration slope and intercept of every target, out of time.

    ``distinct_predictions`` counts the different probabilities given: isotonic calibration
    maps scores to a few steps, which can leave grades of the master scale empty.
    """
    rows = []
    for target in data.spec.targets:
        y, p = data.outcomes(target)
        slope, intercept = calibration_slope_intercept(y, p)
        intervals = clustered_intervals(y, p, data.groups(target)) if len(np.unique(y)) == 2 else {}
        rows.append(
            {
                "output": target.output,
                "n": len(y),
                "observed_rate": float(np.mean(y)) if len(y) else np.nan,
                "mean_prediction": float(np.mean(p)) if len(p) else np.nan,
                "brier": brier(y, p) if len(y) else np.nan,
                "calibration_slope": slope,
                "slope_lower_90": intervals.get("calibration_slope_ci_low", np.nan),
                "slope_upper_90": intervals.get("calibration_slope_ci_high", np.nan),
                "calibration_intercept": intercept,
                "distinct_predictions": int(len(np.unique(p))),
            }
        )
    return pd.DataFrame(rows)


def discrimination_by_target(
    data: OutOfTimeData, n_resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """AUC, Gini and KS with customer-clustered bootstrap intervals for every target, on the out-of-time rows.

    Returns
    -------
    pd.DataFrame
        ``output, n, positives, positive_customers, measure, estimate, lower, upper, logged, indicative``; ``logged`` is
        the run's metric where it logged one (Gini and KS only for the first target), and
        ``indicative`` flags targets with fewer than 30 events.
    """
    parts = []
    for target in data.spec.targets:
        y, p = data.outcomes(target)
        if len(np.unique(y)) < 2:
            continue
        customers = data.groups(target)
        table = discrimination_table(y, p, n_resamples, level, seed, customers)
        logged = [
            data.run.metrics.get(f"oot.{LOGGED_NAMES[m]}{target.suffix}", np.nan) for m in table["measure"]
        ]
        parts.append(
            table.assign(
                output=target.output,
                n=len(y),
                positives=int(y.sum()),
                positive_customers=len(np.unique(customers[y == 1])),
                logged=logged,
                indicative=y.sum() < FEW_VALIDATION_POSITIVES,
            )
        )
    columns = [
        "output",
        "n",
        "positives",
        "positive_customers",
        "measure",
        "estimate",
        "lower",
        "upper",
        "logged",
        "indicative",
    ]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def calibration_by_grade(data: OutOfTimeData, grade_of: GradeFunction, alpha: float = 0.05) -> pd.DataFrame:
    """Expected against observed events by grade of the first target on the out-of-time slice, with binomial tests."""
    y, p = data.outcomes(data.spec.targets[0])
    return grade_calibration(y, p, grade_of, alpha)


BENCHMARKS = ("gbm", "scorecard", "hazard", "past_late_rate")  # candidates and comparisons a run may log


def benchmark_table(data: OutOfTimeData) -> pd.DataFrame:
    """The registered family against its comparisons on the same validation rows, as the run logged them.

    Returns
    -------
    pd.DataFrame
        One row per target: out-of-time AUC (and Brier score where logged) of each candidate
        or comparison the run logged (GBM and scorecard for the credit models; the
        payment-timing model, a scorecard and the customer's past late rate for late
        payment), the mean rolling-origin AUC where there is one, and the family chosen.
    """
    metrics, rows = data.run.metrics, []
    for target in data.spec.targets:
        s = target.suffix
        row: dict[str, object] = {"output": target.output}
        for name in BENCHMARKS:
            for measure in ("auc", "brier"):
                if f"oot.{name}_{measure}{s}" in metrics:
                    row[f"{name}_{measure}"] = metrics[f"oot.{name}_{measure}{s}"]
            if f"cv.{name}_auc{s}" in metrics:
                row[f"cv_{name}_auc"] = metrics[f"cv.{name}_auc{s}"]
        rows.append(row)
    frame = pd.DataFrame(rows)
    if {"gbm_auc", "scorecard_auc"} <= set(frame.columns):
        frame["auc_gain_over_scorecard"] = frame["gbm_auc"] - frame["scorecard_auc"]
    frame["chosen"] = data.run.model.kind
    frame["why"] = data.run.tags.get("kind_reason", "")
    return frame


def open_invoice_calibration(data: OutOfTimeData) -> pd.DataFrame:
    """Late payment on invoices open at later month ends, as the run logged it (empty for other models).

    Mean conditional P(> k) against the observed share by days-past-due bucket; the run's
    ``open_*`` metrics give the interval coverage, the date error and the consistency counts.
    """
    return data.run.open_invoices if data.run.open_invoices is not None else pd.DataFrame()


def design_table(data: OutOfTimeData) -> pd.DataFrame:
    """Development, validation and refit rows as the run logged them: rows, positive rows and distinct customers."""
    logged = data.run.fingerprint.get("design", {})
    return pd.DataFrame([{"rows_of": name} | values for name, values in logged.items()])


def rolling_origins(data: OutOfTimeData) -> pd.DataFrame:
    """The run's rolling-origin estimates: AUC of both candidates at each origin and at the validation cut."""
    return data.run.origins if data.run.origins is not None else pd.DataFrame()


def grade_coverage(data: OutOfTimeData) -> pd.DataFrame:
    """Customers per master-scale grade at the training table's latest date, as the run logged them."""
    tag = data.run.tags.get("grade_coverage", "")
    pairs = [item.split(":") for item in tag.split()]
    return pd.DataFrame({"grade": [int(g) for g, _ in pairs], "customers": [int(n) for _, n in pairs]})


def signoff_summary(
    data: Mapping[str, OutOfTimeData],
    discrimination: Mapping[str, pd.DataFrame],
    calibration: Mapping[str, pd.DataFrame],
    drift: Mapping[str, pd.DataFrame],
) -> pd.DataFrame:
    """The headline of each champion for sign-off: first target's AUC with interval, calibration test, worst drift.

    ``calibration`` holds :func:`calibration_by_grade` tables (models without one show ``n/a``),
    ``drift`` :func:`riskmodel.validation.drift.drift_report` tables.
    """
    rows = []
    for name, oot in data.items():
        primary = oot.spec.targets[0].output
        table = discrimination[name]
        auc_row = table[(table["output"] == primary) & (table["measure"] == "AUC")]
        grades = calibration.get(name)
        total = grades[grades["grade"] == "all"].iloc[0] if grades is not None else None
        worst = drift[name].iloc[0] if name in drift and len(drift[name]) else None
        rows.append(
            {
                "model": name,
                "version": oot.run.version,
                "events": int(auc_row["positives"].iloc[0]) if len(auc_row) else 0,
                "auc": float(auc_row["estimate"].iloc[0]) if len(auc_row) else np.nan,
                "auc_lower": float(auc_row["lower"].iloc[0]) if len(auc_row) else np.nan,
                "auc_upper": float(auc_row["upper"].iloc[0]) if len(auc_row) else np.nan,
                "calibration_test": total["result"] if total is not None else "n/a",
                "grades_out_of_line": int((grades["result"][grades["grade"] != "all"] != "in line").sum())
                if grades is not None
                else 0,
                "worst_drift": "n/a"
                if worst is None
                else f"{worst['feature']} {worst['psi']:.3f} ({worst['status']})",
                "indicative_only": bool(auc_row["indicative"].iloc[0]) if len(auc_row) else True,
            }
        )
    return pd.DataFrame(rows)
