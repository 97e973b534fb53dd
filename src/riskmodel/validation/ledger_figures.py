"""Figures of the ledger exploration: volumes, aging, days beyond terms, DSO and rates by segment.

Each function takes the tables of :mod:`riskmodel.validation.ledger_profile` and returns a
:class:`matplotlib.figure.Figure` (no pyplot state).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from riskmodel.validation.ledger_profile import AGING_BUCKETS, AGING_LABELS, SEGMENTS


def date_ticks(*axes: Axes) -> None:
    """Slanted, small date labels on the x axis of each of ``axes`` (monthly series)."""
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)


def volumes_figure(volumes: pd.DataFrame) -> Figure:
    """Invoiced and paid amount by month, with the number of invoiced customers."""
    figure = Figure(figsize=(10, 3.5), layout="constrained")
    amount, customers = figure.subplots(1, 2)
    amount.plot(volumes["month"], volumes["invoiced_amount"] / 1e6, label="invoiced")
    amount.plot(volumes["month"], volumes["paid_amount"] / 1e6, label="paid")
    amount.set(title="amount by month", ylabel="million")
    amount.legend(fontsize=8)
    customers.bar(volumes["month"], volumes["customers"], width=20)
    customers.set(title="customers invoiced in the month", ylabel="customers")
    date_ticks(amount, customers)
    return figure


def aging_figure(aging: pd.DataFrame, trend: pd.DataFrame) -> Figure:
    """Open balance by days-past-due bucket at the ledger's end, and the overdue buckets' shares over time."""
    figure = Figure(figsize=(10, 3.5), layout="constrained")
    now, history = figure.subplots(1, 2, width_ratios=(1, 2))
    now.bar(aging["bucket"].astype(str), aging["open_amount"] / 1e3)
    now.set(title="open balance by days past due", ylabel="thousand", xlabel="days past due")
    overdue = [b for b in AGING_BUCKETS if b != "current"]
    history.stackplot(
        trend["as_of"],
        *[trend[f"share_{b}"].fillna(0) for b in overdue],
        labels=[AGING_LABELS[b] for b in overdue],
    )
    history.set(title="overdue share of the open balance, month ends", ylabel="share")
    history.legend(title="days past due", fontsize=8, loc="upper left")
    date_ticks(history)
    return figure


def days_beyond_terms_figure(days: pd.Series, clip: tuple[int, int] = (-60, 180)) -> Figure:
    """Histogram of days beyond terms of settled invoices, clipped to ``clip`` (the ends collect the rest)."""
    figure = Figure(figsize=(7, 3.5), layout="constrained")
    ax = figure.subplots()
    ax.hist(np.clip(days, *clip), bins=np.arange(clip[0], clip[1] + 6, 5))
    for threshold in (0, 30, 60, 90):
        ax.axvline(threshold, color="grey", lw=0.7, ls="--")
    late = [f"> {k}: {np.mean(days > k):.1%}" for k in (0, 30, 90)] if len(days) else []
    ax.set(
        title=f"days beyond terms, {len(days):,} settled invoices ({', '.join(late)})",
        xlabel="days beyond terms (settlement date - due date)",
        ylabel="invoices",
    )
    ax.title.set_fontsize(9)
    return figure


def dso_figure(trend: pd.DataFrame) -> Figure:
    """Portfolio DSO and open balance at each month end."""
    figure = Figure(figsize=(8, 3.5), layout="constrained")
    ax = figure.subplots()
    ax.plot(trend["as_of"], trend["dso"], marker=".", label="DSO (days)")
    ax.set(title="portfolio DSO (open balance / last 90 days' sales x 90)", ylabel="days")
    balance = ax.twinx()
    balance.plot(trend["as_of"], trend["open_balance"] / 1e6, color="grey", lw=0.8, label="open balance")
    balance.set_ylabel("open balance, million")
    ax.legend(handles=ax.get_lines() + balance.get_lines(), fontsize=8, loc="upper left")
    return figure


def segment_figure(rates: pd.DataFrame) -> Figure:
    """12-month default rate and 30+ days late rate by industry, country and size band."""
    figure = Figure(figsize=(12, 4), layout="constrained")
    axes = figure.subplots(1, len(SEGMENTS))
    for ax, segment_type in zip(axes, SEGMENTS, strict=True):
        part = rates[rates["segment_type"] == segment_type].sort_values("default_rate")
        position = np.arange(len(part))
        ax.barh(position - 0.2, part["default_rate"], height=0.4, label="default within 12 months")
        ax.barh(position + 0.2, part["late_30_rate"], height=0.4, label="paid 30+ days late")
        ax.set_yticks(position, part["segment"].astype(str), fontsize=8)
        ax.set(title=segment_type, xlabel="rate")
    axes[0].legend(fontsize=8, loc="lower right")
    return figure
