"""What a backtest writes to ``--out``: its tables, its figures and its summary."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from riskmodel.backtest import BacktestResult
from riskmodel.validation.ledger_figures import date_ticks


def alerts_figure(monthly: pd.DataFrame) -> Figure:
    """New alerts as a share of active customers and open alerts per customer, by scoring date."""
    figure = Figure(figsize=(10, 3.5), layout="constrained")
    rate, backlog = figure.subplots(1, 2)
    dates = pd.to_datetime(monthly["as_of"])
    rate.bar(dates, monthly["new_alert_rate"] * 100, width=20)
    rate.set(title="customers with a new alert (first date: warm-up)", ylabel="% of active customers")
    backlog.plot(dates, monthly["open_alerts"] / monthly["active_customers"], marker="o", label="all")
    backlog.plot(
        dates, monthly["open_severe_alerts"] / monthly["active_customers"], marker="o", label="severe"
    )
    backlog.set(title="open alerts per active customer", ylabel="alerts per customer")
    backlog.legend(fontsize=8)
    date_ticks(rate, backlog)
    return figure


def limits_figure(monthly: pd.DataFrame) -> Figure:
    """Limits raised, cut and unchanged, and the recommended total against the current one, by scoring date."""
    figure = Figure(figsize=(10, 3.5), layout="constrained")
    moves, totals = figure.subplots(1, 2)
    dates = pd.to_datetime(monthly["as_of"])
    bottom = None
    for column, label in (
        ("limits_unchanged", "unchanged"),
        ("limits_raised", "raised"),
        ("limits_cut", "cut"),
    ):
        moves.bar(dates, monthly[column], width=20, bottom=bottom, label=label)
        bottom = monthly[column] if bottom is None else bottom + monthly[column]
    moves.set(title="recommended against current limit", ylabel="customers")
    moves.legend(fontsize=8)
    totals.plot(dates, monthly["current_limit_total"] / 1e6, marker="o", label="current")
    totals.plot(dates, monthly["recommended_limit_total"] / 1e6, marker="o", label="recommended")
    totals.set(title="total limit", ylabel="million")
    totals.legend(fontsize=8)
    date_ticks(moves, totals)
    return figure


def lead_time_figure(defaults: pd.DataFrame) -> Figure:
    """Days between the first severe warning and the default, for each default of the backtest (unwarned at 0)."""
    figure = Figure(figsize=(6, 3.5), layout="constrained")
    axis = figure.subplots()
    lead = (pd.to_datetime(defaults["default_date"]) - pd.to_datetime(defaults["warned_on"])).dt.days
    axis.hist(lead.dropna(), bins=range(0, 200, 15), label="warned")
    axis.axvline(30, color="grey", linestyle="--", linewidth=1)
    missed = int(lead.isna().sum())
    axis.set(
        title=f"lead time of severe alerts ({missed} default(s) not warned 30 days ahead)",
        xlabel="days from the first severe alert to the default",
        ylabel="defaults",
    )
    return figure


# What the decisions are held to (README, "Backtest"): figure -> (bound, ">=" or "<=").
TARGETS = {
    "default_recall_30d": (0.60, ">="),
    "lift": (3.0, ">="),
    "new_alert_rate": (0.10, "<="),
    "good_limit_ratio": (0.90, ">="),
    "ead_reduction": (0.30, ">="),
}
HEADLINE = (
    "defaults",
    "default_recall_30d",
    "alert_precision",
    "base_rate",
    "lift",
    "new_alert_rate",
    "open_alerts_per_customer",
    "limits_raised_share",
    "limits_cut_share",
    "limits_unchanged_share",
    "good_limit_ratio",
    "ead_as_happened",
    "ead_committed",
    "ead_current_limits",
    "ead_recommended_limits",
    "ead_reduction",
    "ead_max_reduction",
)


def headline_table(summary: dict) -> pd.DataFrame:
    """The backtest's figures with the target each is held to and whether it is met (empty where none applies)."""
    rows = []
    for figure in HEADLINE:
        value = summary.get(figure)
        bound, sense = TARGETS.get(figure, (None, ""))
        met = None
        if bound is not None and value is not None:
            met = value >= bound if sense == ">=" else value <= bound
        target = f"{sense} {bound:g}" if bound is not None else ""
        rows.append({"figure": figure, "value": value, "target": target, "met": met})
    return pd.DataFrame(rows)


# The figures a challenger is judged on, in the order the comparison lists them.
COMPARED = ("model_version", "policy_version", *HEADLINE)


def comparison(current: dict, challenger: dict) -> pd.DataFrame:
    """The headline figures of two backtests side by side, with the challenger's change where both are numbers."""
    rows = []
    for figure in COMPARED:
        ours, theirs = current.get(figure), challenger.get(figure)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (ours, theirs))
        change = round(theirs - ours, 4) if numbers else None
        rows.append({"figure": figure, "current": ours, "challenger": theirs, "change": change})
    return pd.DataFrame(rows)


def write_backtest(result: BacktestResult, out: str | Path) -> list[Path]:
    """Write ``summary.json``, ``monthly.csv``, ``defaults.csv`` and the figures (PNG) into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "summary.json", folder / "monthly.csv", folder / "defaults.csv"]
    written[0].write_text(json.dumps(result.summary, indent=2) + "\n", encoding="utf-8")
    result.monthly.to_csv(written[1], index=False)
    result.defaults.to_csv(written[2], index=False)
    figures = {
        "alerts.png": alerts_figure(result.monthly),
        "limits.png": limits_figure(result.monthly),
        "lead_time.png": lead_time_figure(result.defaults),
    }
    for name, figure in figures.items():
        figure.savefig(folder / name, dpi=110)
        written.append(folder / name)
    return written
