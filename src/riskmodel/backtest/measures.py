"""The figures of a backtest (DESIGN.md, ``riskmodel backtest``) from stored scores, alerts and outcomes.

Inputs are plain frames so that every figure can be checked on constructed cases:

scores
    One row per scored customer and date: ``as_of, customer_id, grade, current_limit, recommended_limit``.
alerts
    Every alert the scorings opened: ``customer_id, alert_type, severity, opened_as_of, closed_as_of`` (NaT: still open).
defaults
    :func:`riskmodel.backtest.outcomes.first_defaults` at every scoring date.
bad
    For each row of ``scores``: whether the customer went bad within the outcome window
    (:func:`riskmodel.backtest.outcomes.bad_outcomes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from riskmodel.backtest.outcomes import OUTCOME_MONTHS, lead_window, recall_window

SEVERE = "severe"


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values)


def open_at(alerts: pd.DataFrame, as_of: pd.Series) -> np.ndarray:
    """Whether each alert (row-aligned with ``as_of``) was open at that scoring date: opened by then and not closed by then."""
    opened = _dates(alerts["opened_as_of"]).to_numpy()
    closed = _dates(alerts["closed_as_of"]).to_numpy()
    at = _dates(as_of).to_numpy()
    return (opened <= at) & (np.isnat(closed) | (closed > at))


def defaults_to_warn(defaults: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Customers not in default at ``start`` whose first default falls after ``start`` + 30 days and by ``end`` + 30 days."""
    first, last = recall_window(start, end)
    at_start = defaults[_dates(defaults["as_of"]) == pd.Timestamp(start)]
    dates = _dates(at_start["next_default_date"])
    chosen = ~at_start["in_default"] & (dates > pd.Timestamp(first)) & (dates <= pd.Timestamp(last))
    return (
        at_start.loc[chosen, ["customer_id"]]
        .assign(default_date=dates[chosen].to_numpy())
        .reset_index(drop=True)
    )


def warned(targets: pd.DataFrame, alerts: pd.DataFrame, dates: Sequence[date]) -> pd.DataFrame:
    """``targets`` (``customer_id, default_date``) with ``warned_on``: the first scoring date in its lead window with a severe alert open (NaT if none)."""
    severe = alerts[alerts["severity"] == SEVERE]
    scoring = pd.DataFrame({"as_of": pd.to_datetime(list(dates))})
    low, high = lead_window(targets["default_date"])
    windows = targets.assign(low=low.to_numpy(), high=high.to_numpy()).merge(scoring, how="cross")
    windows = windows[(windows["as_of"] >= windows["low"]) & (windows["as_of"] <= windows["high"])]
    pairs = windows.merge(severe, on="customer_id")
    pairs = pairs[open_at(pairs, pairs["as_of"])]
    first = pairs.groupby("customer_id")["as_of"].min()
    warned_on = targets["customer_id"].map(dict(zip(first.index, first, strict=True)))
    return targets.assign(warned_on=pd.to_datetime(warned_on))


def alert_figures(
    scores: pd.DataFrame, alerts: pd.DataFrame, bad: np.ndarray, dates: Sequence[date]
) -> dict[str, float]:
    """Precision of the new severe alerts raised after the warm-up, the base rate over all scored customer-months, lift."""
    after = pd.to_datetime(list(dates[1:]))
    scored_after = _dates(scores["as_of"]).isin(after).to_numpy()
    outcome = pd.Series(
        bad,
        index=pd.MultiIndex.from_frame(
            scores[["as_of", "customer_id"]].assign(as_of=lambda f: _dates(f["as_of"]))
        ),
    )
    new_severe = alerts[(alerts["severity"] == SEVERE) & _dates(alerts["opened_as_of"]).isin(after)]
    keys = pd.MultiIndex.from_arrays([_dates(new_severe["opened_as_of"]), new_severe["customer_id"]])
    hits = outcome.reindex(keys).fillna(False).to_numpy(dtype=bool)
    precision = float(hits.mean()) if len(hits) else float("nan")
    base_rate = float(bad[scored_after].mean()) if scored_after.any() else float("nan")
    return {
        "n_new_severe_alerts": int(len(hits)),
        "alert_precision": precision,
        "base_rate": base_rate,
        "lift": precision / base_rate if base_rate > 0 else float("nan"),
    }


def monthly_table(scores: pd.DataFrame, alerts: pd.DataFrame, dates: Sequence[date]) -> pd.DataFrame:
    """Per scoring date: active customers, alerts raised and open, customers with a new alert, limits raised, cut and unchanged."""
    rows = []
    for as_of in pd.to_datetime(list(dates)):
        scored = scores[_dates(scores["as_of"]) == as_of]
        opened = alerts[_dates(alerts["opened_as_of"]) == as_of]
        now_open = alerts[open_at(alerts, pd.Series(as_of, index=alerts.index))]
        current, recommended = scored["current_limit"], scored["recommended_limit"]
        has_limit = current > 0
        rows.append(
            {
                "as_of": as_of.date(),
                "active_customers": len(scored),
                "new_alerts": len(opened),
                "new_severe_alerts": int((opened["severity"] == SEVERE).sum()),
                "customers_with_new_alert": opened["customer_id"].nunique(),
                "open_alerts": len(now_open),
                "open_severe_alerts": int((now_open["severity"] == SEVERE).sum()),
                "limits_raised": int((has_limit & (recommended > current)).sum()),
                "limits_cut": int((has_limit & (recommended < current)).sum()),
                "limits_unchanged": int((has_limit & (recommended == current)).sum()),
                "current_limit_total": float(current[has_limit].sum()),
                "recommended_limit_total": float(recommended[has_limit].sum()),
            }
        )
    table = pd.DataFrame(rows)
    if len(table):
        table["new_alert_rate"] = table["customers_with_new_alert"] / table["active_customers"].clip(lower=1)
    return table


def limit_figures(scores: pd.DataFrame, bad_default: np.ndarray, dates: Sequence[date]) -> dict[str, float]:
    """Limit shares raised / cut / unchanged after the warm-up, and the total limit of customers who stayed good, recommended against current."""
    after = _dates(scores["as_of"]).isin(pd.to_datetime(list(dates[1:]))).to_numpy()
    current, recommended = (
        scores["current_limit"].to_numpy(float),
        scores["recommended_limit"].to_numpy(float),
    )
    has_limit = after & (np.nan_to_num(current) > 0)
    n = max(int(has_limit.sum()), 1)
    good = has_limit & ~bad_default
    current_good = float(current[good].sum())
    return {
        "limits_raised_share": float((recommended[has_limit] > current[has_limit]).sum() / n),
        "limits_cut_share": float((recommended[has_limit] < current[has_limit]).sum() / n),
        "limits_unchanged_share": float((recommended[has_limit] == current[has_limit]).sum() / n),
        "good_limit_current": current_good,
        "good_limit_recommended": float(recommended[good].sum()),
        "good_limit_ratio": float(recommended[good].sum() / current_good)
        if current_good > 0
        else float("nan"),
    }


def defaults_within(scores: pd.DataFrame, defaults: pd.DataFrame, months: int = OUTCOME_MONTHS) -> np.ndarray:
    """Whether each scored row is in default or defaults within ``months`` (those did not stay good)."""
    keys = scores[["as_of", "customer_id"]].assign(as_of=lambda f: _dates(f["as_of"]))
    merged = keys.merge(
        defaults.assign(as_of=_dates(defaults["as_of"])), on=["as_of", "customer_id"], how="left"
    )
    horizon = keys["as_of"] + pd.DateOffset(months=months)
    soon = (_dates(merged["next_default_date"]) <= horizon).fillna(False)
    return (soon | merged["in_default"].fillna(False).astype(bool)).to_numpy(dtype=bool)


def limits_before_default(targets: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """For each default: its scores from ``OUTCOME_MONTHS`` before it up to it (the limits in force as it built up), oldest first."""
    low, _ = lead_window(targets["default_date"])  # from six months before the default
    windows = targets.assign(low=low.to_numpy()).merge(
        scores.assign(as_of=_dates(scores["as_of"]))[
            ["as_of", "customer_id", "current_limit", "recommended_limit"]
        ],
        on="customer_id",
    )
    windows = windows[
        (windows["as_of"] >= windows["low"]) & (windows["as_of"] < _dates(windows["default_date"]))
    ]
    columns = ["customer_id", "default_date", "as_of", "current_limit", "recommended_limit"]
    return windows.sort_values(["customer_id", "as_of"])[columns].reset_index(drop=True)
