"""What a backtest writes to ``--out``: its tables, its figures and its summary."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from riskmodel.backtest import BacktestResult


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
    for ax in (rate, backlog):
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
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
    for ax in (moves, totals):
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
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
