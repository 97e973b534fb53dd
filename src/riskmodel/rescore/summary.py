"""The end-of-run summary: grade migration, drift, new and closed alerts, limit changes, rejected customers.

Everything is read back from the results database, so a resumed run reports on all its
chunks, not only those of the last process. Drift compares the performing customers' scores
(``pd_12m``) and the default model's top features with the distribution the model carries
from its training slice (:class:`riskmodel.validation.drift.DriftMonitor`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.ledger.tables import Ledger
from riskmodel.policy.config import DriftThresholds
from riskmodel.portfolio import migration_matrix
from riskmodel.rescore.chunks import Portfolio
from riskmodel.scoring import ModelBundle
from riskmodel.store import ResultsStore
from riskmodel.validation.drift import DriftMonitor

MAX_LISTED = 10


@dataclass(frozen=True)
class RescoreSummary:
    """Headline numbers of one run (see :func:`summarise_run`)."""

    run: dict[str, Any]
    status: str
    n_scored: int
    previous_as_of: date | None
    grade_migration: pd.DataFrame
    new_alerts: dict[str, int]
    closed_alerts: dict[str, int]
    limit_changes: dict[str, int]
    rejected: pd.DataFrame = field(repr=False)
    n_rejected_rows: int = 0
    n_unresolved_rows: int = 0
    drift: pd.DataFrame | None = field(default=None, repr=False)  # None: the model carries no reference
    drift_thresholds: DriftThresholds | None = None
    basis: str | None = None  # model | rules: what graded the customers (None: not known to the summary)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready headline numbers (the last stdout line of ``riskmodel rescore``)."""
        return {
            "run_id": self.run["run_id"],
            "as_of": self.run["as_of"].isoformat(),
            "status": self.status,
            "model_version": self.run["model_version"],
            "policy_version": self.run["policy_version"],
            "basis": self.basis,
            "customers_scored": self.n_scored,
            "previous_as_of": self.previous_as_of.isoformat() if self.previous_as_of else None,
            "new_alerts": self.new_alerts,
            "closed_alerts": self.closed_alerts,
            "limit_changes": self.limit_changes,
            "drift_psi": None
            if self.drift is None
            else {
                row.feature: round(float(row.psi), 4) if np.isfinite(row.psi) else None
                for row in self.drift.itertuples()
            },
            "customers_with_rejected_rows": int(len(self.rejected)),
            "customers_not_scored_rejected": int((~self.rejected["scored"]).sum())
            if len(self.rejected)
            else 0,
        }


def summarise_run(
    store: ResultsStore,
    run: dict[str, Any],
    status: str,
    ledger: Ledger,
    bundle: ModelBundle | None = None,
    portfolio: Portfolio | None = None,
) -> RescoreSummary:
    """Summary of ``run`` against the latest finished run before it, and of its drift (:func:`portfolio_drift`)."""
    current = store.run_scores(run)
    previous_run = store.previous_run(run["as_of"])
    previous = store.run_scores(previous_run)
    opened = store.alerts_opened_in(run["run_id"])
    closed = store.alerts_closed_in(run["run_id"])
    rejected, n_rows, n_unresolved = rejected_customers(ledger, current["customer_id"])
    return RescoreSummary(
        run=run,
        status=status,
        n_scored=len(current),
        previous_as_of=previous_run["as_of"] if previous_run else None,
        grade_migration=migration_matrix(previous, current),
        new_alerts=_counts(opened["alert_type"]),
        closed_alerts=_counts(closed["alert_type"]),
        limit_changes=limit_changes(current),
        rejected=rejected,
        n_rejected_rows=n_rows,
        n_unresolved_rows=n_unresolved,
        drift=portfolio_drift(bundle, current, portfolio) if bundle is not None else None,
        drift_thresholds=bundle.policy.drift if bundle is not None else None,
        basis=bundle.basis if bundle is not None else None,
    )


def portfolio_drift(
    bundle: ModelBundle, current: pd.DataFrame, portfolio: Portfolio | None = None
) -> pd.DataFrame | None:
    """PSI of the performing customers' ``pd_12m`` and the top features against the default model's training slice.

    Customers in default (``pd_12m`` 1 by rule) are left out, as the training table leaves
    them out. Without ``portfolio`` (a run that had finished before) only the scores are
    compared, and customers at ``pd_12m`` 1 are taken as in default. None when the default
    model carries no reference (trained before models kept one).

    Returns
    -------
    pd.DataFrame or None
        :data:`riskmodel.validation.drift.REPORT_COLUMNS`, largest PSI first.
    """
    monitor: DriftMonitor | None = getattr(bundle.default, "drift_monitor", None)
    if monitor is None:
        return None
    scores = current[["customer_id", "pd_12m"]]
    if portfolio is None:
        frame = scores[scores["pd_12m"] < 1.0]
    else:
        performing = portfolio.features[~portfolio.default_state["in_default"].to_numpy(dtype=bool)]
        frame = performing.merge(scores, on="customer_id", how="inner", validate="one_to_one")
    columns = [name for name in monitor.feature_names_in_ if name in frame.columns]
    return monitor.report(frame, bundle.policy.drift, columns)


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts().sort_index().items()}


def limit_changes(current: pd.DataFrame) -> dict[str, int]:
    """Recommended against current limits: ``up``, ``down``, ``unchanged`` and ``new`` (no current limit)."""
    now = current["current_limit"].to_numpy(dtype=float)
    recommended = current["recommended_limit"].to_numpy(dtype=float)
    has_limit = ~np.isnan(now) & (now > 0)
    return {
        "up": int((has_limit & (recommended > now)).sum()),
        "down": int((has_limit & (recommended < now)).sum()),
        "unchanged": int((has_limit & (recommended == now)).sum()),
        "new": int((~has_limit).sum()),
    }


def rejected_customers(ledger: Ledger, scored_ids: pd.Series) -> tuple[pd.DataFrame, int, int]:
    """Customers with rejected ledger rows (payments reach theirs through the invoice), the rows, and those unresolvable.

    Returns
    -------
    tuple
        One row per customer (``customer_id, scored, n_rows, tables, first_problem``), the
        number of rejected rows, and the number whose customer could not be told.
    """
    parts = [
        pd.DataFrame(
            {
                "customer_id": _customer_of(ledger, table, rows),
                "table": table,
                "problem": rows["file"].astype(str)
                + " row "
                + rows["row"].astype(str)
                + ": "
                + rows["reason"].astype(str),
            }
        )
        for table, rows in ledger.report.rejected.items()
        if len(rows)
    ]
    columns = ["customer_id", "scored", "n_rows", "tables", "first_problem"]
    if not parts:
        return pd.DataFrame(columns=columns), 0, 0
    rows = pd.concat(parts, ignore_index=True)
    known = rows["customer_id"].notna() & rows["customer_id"].ne("")
    grouped = rows[known].groupby("customer_id", sort=True)
    customers = pd.DataFrame(
        {
            "n_rows": grouped.size(),
            "tables": grouped["table"].agg(lambda t: ",".join(sorted(set(t)))),
            "first_problem": grouped["problem"].first(),
        }
    ).reset_index()
    customers.insert(1, "scored", customers["customer_id"].isin(set(scored_ids)))
    return customers[columns], len(rows), int((~known).sum())


def _customer_of(ledger: Ledger, table: str, rows: pd.DataFrame) -> pd.Series:
    """Customer id of each rejected row as the source wrote it; payments through their invoice."""
    if "customer_id" in rows:
        return rows["customer_id"].astype("string").str.strip()
    if table != "payments" or "invoice_id" not in rows:
        return pd.Series(pd.NA, index=rows.index, dtype="string")
    owners = pd.Series(
        ledger.invoices["customer_id"].to_numpy(), index=ledger.invoices["invoice_id"].to_numpy()
    )
    rejected_invoices = ledger.report.rejected.get("invoices")
    if rejected_invoices is not None and len(rejected_invoices) and "customer_id" in rejected_invoices:
        extra = pd.Series(
            rejected_invoices["customer_id"].to_numpy(), index=rejected_invoices["invoice_id"].to_numpy()
        )
        owners = pd.concat([owners, extra[~extra.index.isin(owners.index)]])
    owners = owners[~owners.index.duplicated()]
    invoice_ids = rows["invoice_id"].astype("string").str.strip()
    return pd.Series(owners.reindex(invoice_ids.to_numpy()).to_numpy(), index=rows.index, dtype="string")


def format_summary(summary: RescoreSummary) -> str:
    """The summary as text for a terminal or a log."""
    run = summary.run
    status = summary.status
    if status == "already finished":
        status += " before: nothing to do, the database is unchanged"
    lines = [
        f"run {run['run_id']} as of {run['as_of']}: {status}",
        f"models {run['model_version']}, policy {run['policy_version']}, engine {run['engine']}",
        *(
            ["grades by the policy's payment-behaviour rules (basis 'rules'): no default model is registered"]
            if summary.basis == "rules"
            else []
        ),
        f"customers scored: {summary.n_scored:,}",
        "",
        f"grade migration vs the run as of {summary.previous_as_of}"
        if summary.previous_as_of
        else "grade migration: no earlier run (every customer is new)",
        _matrix_text(summary.grade_migration),
        "",
        *_drift_lines(summary),
        "",
        "new alerts by type: " + _pairs(summary.new_alerts),
        "closed alerts by type: " + _pairs(summary.closed_alerts),
        "recommended limits vs current: " + _pairs(summary.limit_changes),
    ]
    lines += _rejected_lines(summary)
    return "\n".join(lines)


def _drift_lines(summary: RescoreSummary) -> list[str]:
    drift, levels = summary.drift, summary.drift_thresholds
    if summary.basis == "rules":
        return ["drift: no default model, so no training slice to compare the scores with"]
    if drift is None:
        return ["drift: the default model carries no training reference; retrain it to have drift reported"]
    heading = "drift vs the default model's training slice (PSI"
    if levels is not None:
        heading += f"; warning at {levels.psi_warning}, severe at {levels.psi_severe}"
    lines = [heading + "):"]
    width = max((len(str(name)) for name in drift["feature"]), default=0)
    for row in drift.itertuples():
        value = f"{row.psi:.3f}" if np.isfinite(row.psi) else "  n/a"
        lines.append(f"  {row.feature:<{width}}  {value}  {row.status}")
    return lines


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items()) if counts else "none"


def _matrix_text(table: pd.DataFrame) -> str:
    used = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    if used.empty:
        return "  (no customers)"
    return "\n".join("  " + line for line in used.to_string().splitlines())


def _rejected_lines(summary: RescoreSummary) -> list[str]:
    rejected = summary.rejected
    if summary.n_rejected_rows == 0:
        return ["rejected ledger rows: none"]
    not_scored = rejected[~rejected["scored"]]
    lines = [
        "",
        f"rejected ledger rows: {summary.n_rejected_rows:,}, of {len(rejected):,} customer(s) "
        f"({len(not_scored):,} not scored at all, the others scored on their accepted rows)"
        + (
            f"; {summary.n_unresolved_rows:,} row(s) name no known customer"
            if summary.n_unresolved_rows
            else ""
        ),
    ]
    for row in rejected.sort_values(["scored", "customer_id"]).head(MAX_LISTED).itertuples():
        state = "scored" if row.scored else "NOT scored"
        lines.append(
            f"  {row.customer_id} ({state}, {row.n_rows} row(s) in {row.tables}): {row.first_problem}"
        )
    if len(rejected) > MAX_LISTED:
        lines.append(f"  ... and {len(rejected) - MAX_LISTED:,} more in the rejected-customers file")
    return lines
