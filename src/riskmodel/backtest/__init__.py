"""Decisions measured against what happened (``riskmodel backtest``, DESIGN.md).

Walk-forward: the default model is trained once on the ledger as known at ``start`` (into a
tracking store of the backtest's own, never the registered champions), then every month end
from ``start`` to ``end`` is rescored by :func:`riskmodel.rescore.rescore_portfolio` into a
results database of the backtest's own, so alert memory is exactly that of monthly
``rescore`` runs. ``start`` is a warm-up: its alerts count for recall, not for the monthly
rates. Outcomes (defaults, invoices crossing 60 days past due) come from the ledger in the
six months after each scoring date. ``policy`` judges another policy on the same models.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.backtest.measures import (
    alert_figures,
    defaults_to_warn,
    defaults_within,
    limit_figures,
    limits_before_default,
    monthly_table,
    warned,
)
from riskmodel.backtest.outcomes import (
    OUTCOME_MONTHS,
    bad_outcomes,
    crossing_dates,
    exposure_at_default,
    exposure_under,
    first_defaults,
    outcome_end,
)
from riskmodel.exceptions import BacktestError
from riskmodel.labels import add_months
from riskmodel.ledger.tables import Ledger
from riskmodel.models import TrainConfig, train_models
from riskmodel.policy import Policy, load_policy
from riskmodel.progress import CountProgress
from riskmodel.rescore import rescore_portfolio
from riskmodel.scoring import ModelBundle
from riskmodel.store import ResultsStore
from riskmodel.training_tables import month_ends

logger = logging.getLogger(__name__)

# Trained on the history known at the start only, the default model has less to learn from
# than in production: a smaller validation share and two rolling origins fit a shorter ledger.
BACKTEST_TRAINING = {"validation_share": 0.1, "cv_folds": 2}


@dataclass(frozen=True)
class BacktestResult:
    """The headline figures (``summary``, the last stdout line) and the tables behind them."""

    summary: dict[str, Any]
    monthly: pd.DataFrame
    defaults: (
        pd.DataFrame
    )  # customer_id, default_date, warned_on, as_of, current/recommended limit, exposures
    scores: pd.DataFrame
    alerts: pd.DataFrame


def backtest_config() -> TrainConfig:
    """The training settings a backtest uses unless given others (:data:`BACKTEST_TRAINING`)."""
    return dataclasses.replace(TrainConfig(), **BACKTEST_TRAINING)


def scoring_dates(start: date, end: date) -> list[date]:
    """Month ends from ``start`` to ``end``; ``start`` itself first (the warm-up) even when it is not a month end."""
    if end <= start:
        raise BacktestError(f"--end ({end}) must be after --start ({start})")
    dates = [d for d in month_ends(start, end) if d > start]
    if not dates:
        raise BacktestError(
            f"no month end after {start} and by {end}: pass an --end at least one month end later"
        )
    return [start, *dates]


def report_window(data_end: date, months: int = 6) -> tuple[date, date]:
    """The backtest the validation report runs: ``months`` months up to the last month end whose outcomes the ledger holds.

    Examples
    --------
    >>> [d.isoformat() for d in report_window(date(2025, 12, 31))]
    ['2024-12-31', '2025-06-30']
    >>> [d.isoformat() for d in report_window(date(2025, 12, 15))]
    ['2024-11-30', '2025-05-31']
    """
    month_end = pd.offsets.MonthEnd()
    end = month_end.rollback(pd.Timestamp(add_months(data_end, -OUTCOME_MONTHS))).date()
    return month_end.rollforward(pd.Timestamp(add_months(end, -months))).date(), end


def check_outcomes_known(ledger: Ledger, end: date) -> None:
    """The ledger must reach six months past ``end``: outcomes are read there."""
    data_end = ledger.require_data_end("backtest")
    needed = outcome_end(end)
    if data_end < needed:
        raise BacktestError(
            f"the ledger ends on {data_end}, but the outcomes of scoring dates up to {end} are read until {needed}; "
            f"pass an --end of {add_months(data_end, -OUTCOME_MONTHS)} or earlier"
        )


def train_at_start(
    ledger: Ledger, start: date, tracking_uri: str, config: TrainConfig, policy: Policy
) -> ModelBundle:
    """The default model trained on what was known at ``start``, registered in a tracking store of the backtest's own."""
    logger.info(
        "training the default model on the ledger as known at %s (tracking at %s)", start, tracking_uri
    )
    (result,) = train_models(
        ledger, tracking_uri, models=["default"], as_of=start, config=config, policy=policy
    )
    if result.status != "trained" or not result.promoted:
        logger.warning(
            "no default model as of %s (%s): customers are graded by the policy's payment-behaviour rules",
            start,
            result.message,
        )
    return ModelBundle.from_registry(tracking_uri, policy=policy)


def rescore_months(
    ledger: Ledger, bundle: ModelBundle, dates: list[date], store: ResultsStore
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rescore every date in order into ``store`` (alert memory as monthly runs keep it); all scores and alerts."""
    frames = []
    for number, as_of in enumerate(dates, start=1):
        result = rescore_portfolio(ledger, bundle, as_of, store, progress=CountProgress())
        frames.append(store.export_scores(as_of, bundle.model_version))
        logger.info(
            "scoring date %d of %d (%s): %s customers, %d alerts opened",
            number,
            len(dates),
            as_of,
            f"{result.run['n_customers']:,}",
            len(store.alerts_opened_in(result.run_id)),
        )
    return pd.concat(frames, ignore_index=True), store.alert_history()


def measure(
    ledger: Ledger, bundle: ModelBundle, dates: list[date], scores: pd.DataFrame, alerts: pd.DataFrame
) -> BacktestResult:
    """Every figure of the backtest from its scores and alerts and the ledger's later outcomes."""
    start, end = dates[0], dates[-1]
    defaults = first_defaults(ledger, dates, outcome_end(end), bundle.policy.default)
    bad = bad_outcomes(scores, defaults, crossing_dates(ledger))
    targets = warned(defaults_to_warn(defaults, start, end), alerts, dates)
    periods = exposure_at_default(
        ledger, limits_before_default(targets[["customer_id", "default_date"]], scores)
    )
    periods = periods.assign(
        exposure_current=exposure_under(periods["current_limit"], periods).to_numpy(),
        exposure_recommended=exposure_under(periods["recommended_limit"], periods).to_numpy(),
    )
    ead_current, ead_recommended = periods["exposure_current"].sum(), periods["exposure_recommended"].sum()
    committed = periods["committed"].sum()  # shipped before the first decision: no limit changes it
    monthly = monthly_table(scores, alerts, dates)
    after = monthly.iloc[1:]
    summary: dict[str, Any] = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "months": len(dates) - 1,
        "model_version": bundle.model_version,
        "basis": bundle.basis,
        "policy_version": bundle.policy.version,
        "active_customers_mean": float(after["active_customers"].mean()),
        "defaults": len(targets),
        "defaults_warned_30d": int(targets["warned_on"].notna().sum()),
        "default_recall_30d": float(targets["warned_on"].notna().mean()) if len(targets) else float("nan"),
        **alert_figures(scores, alerts, bad, dates),
        "new_alert_rate": float(after["new_alert_rate"].mean()),
        "open_alerts_per_customer": float(
            (after["open_alerts"] / after["active_customers"].clip(lower=1)).mean()
        ),
        **limit_figures(scores, defaults_within(scores, defaults), dates),
        "ead_cases": int(periods["customer_id"].nunique()),
        "ead_as_happened": float(committed + periods["new"].sum()),
        "ead_committed": float(committed),
        "ead_current_limits": float(ead_current),
        "ead_recommended_limits": float(ead_recommended),
        "ead_reduction": _reduction(ead_recommended, ead_current),
        "ead_max_reduction": _reduction(committed, ead_current),
    }
    exposures = periods.groupby("customer_id")[["exposure_current", "exposure_recommended"]].sum()
    detail = targets.merge(exposures, on="customer_id", how="left")
    return BacktestResult({k: _round(v) for k, v in summary.items()}, monthly, detail, scores, alerts)


def run_backtest(
    ledger: Ledger,
    start: date,
    end: date,
    policy: Policy | None = None,
    config: TrainConfig | None = None,
    workdir: str | Path | None = None,
) -> BacktestResult:
    """Train at ``start``, rescore each month end to ``end``, measure against what happened after.

    ``workdir`` keeps the backtest's own tracking store (``mlflow.db``) and results database
    (``results.db``); by default a temporary folder, removed afterwards. ``policy`` replaces
    the shipped policy for grades, alerts and limits; ``config`` the training settings.
    """
    dates = scoring_dates(start, end)
    check_outcomes_known(ledger, end)
    policy = policy or load_policy()
    with tempfile.TemporaryDirectory(prefix="riskmodel-backtest-") as temporary:
        folder = Path(workdir or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("mlflow.db", "results.db"):
            (folder / name).unlink(missing_ok=True)
        bundle = train_at_start(
            ledger, start, f"sqlite:///{folder / 'mlflow.db'}", config or backtest_config(), policy
        )
        store = ResultsStore(f"sqlite:///{folder / 'results.db'}")
        try:
            scores, alerts = rescore_months(ledger, bundle, dates, store)
        finally:
            store.close()
    return measure(ledger, bundle, dates, scores, alerts)


def _reduction(under: float, baseline: float) -> float:
    """How much lower ``under`` is than ``baseline``, as a share of it (NaN without a baseline)."""
    return float(1 - under / baseline) if baseline > 0 else float("nan")


def _round(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else round(float(value), 4)
    return value
