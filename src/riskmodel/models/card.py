"""What is logged beside a model to explain it: data fingerprint, feature list, model card."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.features.definitions import features_for
from riskmodel.ledger.tables import Ledger
from riskmodel.models.config import TrainConfig
from riskmodel.models.fit import FitResult

LEDGER_TABLES = ("customers", "invoices", "payments", "events")
FEW_VALIDATION_POSITIVES = 30  # below this, out-of-time measures are read as indicative
HEADLINE = (
    "auc",
    "auc_ci_low",
    "auc_ci_high",
    "gini",
    "ks",
    "brier",
    "log_loss",
    "calibration_slope",
    "calibration_slope_ci_low",
    "calibration_slope_ci_high",
    "calibration_intercept",
    "psi",
    "n",
    "n_positive",
    "n_positive_customers",
)


def ledger_fingerprint(ledger: Ledger, as_of: date | None) -> dict[str, Any]:
    """Row counts, date range and a content hash (SHA-256 of row hashes) of each ledger table."""
    tables = {}
    names = (*LEDGER_TABLES, "customer_history") if ledger.has_customer_history else LEDGER_TABLES
    for name in names:
        frame = ledger.frame(name)
        row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        digest = hashlib.sha256(",".join(frame.columns).encode() + row_hashes.tobytes()).hexdigest()
        tables[name] = {"rows": len(frame), "sha256": digest}
    issue = ledger.frame("invoices")["issue_date"]
    return {
        "source": ledger.source,
        "as_of": as_of.isoformat() if as_of else None,
        "data_end": ledger.data_end.isoformat() if ledger.data_end else None,
        "first_issue_date": issue.min().date().isoformat() if len(issue) else None,
        "tables": tables,
        "rejected_rows": ledger.report.n_rejected,
    }


def feature_list(result: FitResult, config: TrainConfig) -> dict[str, Any]:
    """Used and dropped features with their registry descriptions, units and directions."""
    preparer = result.model.preparer
    registry = {f.name: f for f in features_for(result.spec.level, config.features)}
    used = [
        {
            "name": name,
            "description_en": registry[name].en,
            "description_zh": registry[name].zh,
            "unit": registry[name].unit,
            "group": registry[name].group,
            "direction": registry[name].direction,
            "categorical": registry[name].categorical,
            "monotone_constraint": constraint,
        }
        for name, constraint in zip(preparer.feature_names_, preparer.monotone_, strict=True)
    ]
    return {"used": used, "dropped": preparer.dropped_}


def _format(value: float) -> str:
    if isinstance(value, float) and np.isnan(value):
        return "n/a"
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 1 else f"{value:.4f}"


def _table_rows(fingerprint: dict[str, Any]) -> str:
    return ", ".join(f"{name}: {table['rows']:,} rows" for name, table in fingerprint["tables"].items())


def _markdown_table(frame: pd.DataFrame) -> list[str]:
    rows = [[_format(float(v)) for v in row] for row in frame.itertuples(index=False)]
    return [
        "| " + " | ".join(frame.columns) + " |",
        "|---" * frame.shape[1] + "|",
        *["| " + " | ".join(r) + " |" for r in rows],
    ]


def _design_text(result: FitResult) -> str:
    """How development, validation and refit rows were chosen, in words."""
    if result.design_summary["validation"].get("cut") is None:
        return (
            "Undated rows: the model is chosen and its calibration cross-fitted on stratified folds of the development "
            "rows, fitted on all of them, and measured on the hold-out (validation) rows only."
        )
    cut = result.design_summary["validation"]["cut"]
    return (
        f"Out-of-time design by `{result.spec.date_column}`: validation rows are dated after {cut}; development rows are "
        f"those whose outcome window closed by {cut} (both classes alike), so one outcome window separates them. "
        f"The GBM and the scorecard are compared on {result.design_summary['development']['folds']} rolling origin(s) "
        "inside development, each fitted only on rows whose windows closed by its origin; calibration is cross-fitted "
        "by customer. Every measure below comes from the validation rows. The registered model is then refitted "
        "with the chosen settings on every labelled row with calibration cross-fitted on those rows."
    )


def _origins_table(origins: pd.DataFrame) -> list[str]:
    columns = list(origins.columns)
    return [
        "| " + " | ".join(columns) + " |",
        "|---" * len(columns) + "|",
        *[
            "| " + " | ".join(v if isinstance(v, str) else _format(float(v)) for v in row) + " |"
            for row in origins.itertuples(index=False)
        ],
    ]


def _performance_table(result: FitResult) -> list[str]:
    """Headline measures per target, then the AUC of each candidate or comparison scored on the same rows."""
    candidates = list(result.heads[0].p_by_candidate)
    lines = [
        "| target | " + " | ".join(HEADLINE) + " | " + " | ".join(f"{c} AUC" for c in candidates) + " |",
        "|---" * (len(HEADLINE) + len(candidates) + 1) + "|",
    ]
    for e in result.heads:
        s, m = e.target.suffix, result.metrics
        cells = [_format(m.get(f"{name}{s}", float("nan"))) for name in HEADLINE] + [
            _format(m.get(f"{c}_auc{s}", float("nan"))) for c in candidates
        ]
        lines.append(f"| {e.target.output} | " + " | ".join(cells) + " |")
    return lines


def model_card(
    result: FitResult,
    fingerprint: dict[str, Any],
    grades: pd.DataFrame | None,
    decision: dict[str, Any],
    version: str | None,
    coverage: pd.Series | None = None,
) -> str:
    """Markdown model card: purpose, data, targets, model, out-of-time performance, limits, promotion."""
    spec, parts = result.spec, result.design_summary
    lines = [
        f"# {spec.registered_name}" + (f" version {version}" if version else ""),
        "",
        "## Purpose",
        spec.purpose,
        "",
        "## Data",
        f"Ledger `{fingerprint['source']}`, data end {fingerprint['data_end']}, trained as of {result.data_end.isoformat()}; "
        f"{_table_rows(fingerprint)}.",
        "",
        "| rows | rows | rows with known outcome | positive rows | positive customers | first date | last date |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {name} | {s['rows']:,} | {s['labelled_rows']:,} | {s['positive']:,} | {s['positive_customers']:,} "
            f"| {s['first_date']} | {s['last_date']} |"
            for name, s in parts.items()
        ],
        "",
        _design_text(result),
        "",
        "## Targets",
        *[f"- `{t.label}` → `{t.output}`" for t in spec.targets],
        "",
        "Rows whose outcome window is not over at the data end are left out (censored).",
        "",
        "## Model",
        f"Chosen: **{result.kind}**: {result.choice_reason}. Calibration: "
        + ", ".join(f"{e.target.output} {e.calibration_method}" for e in result.heads)
        + f". {len(result.model.feature_names)} features used, {len(result.model.preparer.dropped_)} dropped.",
        "",
        *[
            f"- Calibration of `{e.target.output}`: {e.calibration_reason}"
            for e in result.heads
            if e.calibration_reason
        ],
        "",
        "## Out-of-time performance (validation rows, model fitted on the development rows)",
        *_performance_table(result),
        "",
        "Intervals are 90 % percentile intervals of a bootstrap that resamples customers (their rows move together).",
        "",
        "### Rolling origins",
        "",
        *_origins_table(result.origins),
    ]
    if grades is not None and len(grades):
        lines += ["", "### Expected against observed by grade", "", *_markdown_table(grades)]
    if coverage is not None:
        lines += [
            "",
            f"Grades populated at the latest snapshot: {int((coverage > 0).sum())} of {len(coverage)} "
            f"(rows by grade: {', '.join(f'{g}: {n}' for g, n in coverage.items())}).",
        ]
    lines += [
        "",
        "## Limits",
        *[f"- {note}" for note in _limits(result)],
        "- The ledger holds only customers who were accepted: applicants declined in the past have "
        "no outcome, and no reject inference is applied, so PDs of applicants unlike past accepted "
        "customers are less certain.",
        "",
        "## Promotion",
        *[f"- {k}: {v}" for k, v in decision.items()],
    ]
    return "\n".join(lines) + "\n"


def _limits(result: FitResult) -> list[str]:
    limits = [
        "Trained on one ledger; scores of customers unlike those in it (other industries, countries, sizes) are extrapolations.",
        "The probabilities are calibrated on cross-fitted scores of the training period; recalibrate "
        "(retrain) when default or lateness rates move.",
    ]
    positive = result.design_summary["validation"]["positive"]
    if positive < FEW_VALIDATION_POSITIVES:
        limits.append(
            f"The validation rows hold only {positive} positive case(s): read their measures as indicative."
        )
    limits += result.notes
    return limits
