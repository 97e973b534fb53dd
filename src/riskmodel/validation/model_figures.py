"""Figures of the model validation report, drawn on :class:`matplotlib.figure.Figure` (no pyplot state)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from riskmodel.forecast import METHODS, CashBacktest
from riskmodel.models.fit import HeadEvaluation
from riskmodel.models.metrics import reliability_table
from riskmodel.models.plots import plot_contribution_summary
from riskmodel.policy.config import DriftThresholds
from riskmodel.validation.data import Contributions, OutOfTimeData

STATUS_COLOURS = {"stable": "tab:green", "warning": "tab:orange", "severe": "tab:red", "no data": "tab:grey"}


def _panels(n: int, width: float = 4.2, height: float = 4.0) -> list:
    figure = Figure(figsize=(width * n, height), layout="constrained")
    return list(figure.subplots(1, n, squeeze=False)[0])


def roc_figure(data: Mapping[str, OutOfTimeData], discrimination: Mapping[str, pd.DataFrame]) -> Figure:
    """Out-of-time ROC curves, one panel per model and one curve per target, AUC with its interval in the legend."""
    axes = _panels(len(data))
    for ax, (name, oot) in zip(axes, data.items(), strict=True):
        table = discrimination[name].set_index(["output", "measure"])
        for target in oot.spec.targets:
            y, p = oot.outcomes(target)
            if (target.output, "AUC") not in table.index:
                continue
            fpr, tpr, _ = roc_curve(y, p)
            row = table.loc[(target.output, "AUC")]
            ax.plot(fpr, tpr, label=f"{target.output}: {row.estimate:.3f} [{row.lower:.3f}, {row.upper:.3f}]")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.5)
        ax.set(title=f"{name} (out-of-time)", xlabel="false positive rate", ylabel="true positive rate")
        ax.legend(loc="lower right", fontsize=7, title="AUC [95% interval]", title_fontsize=7)
    return axes[0].figure


def grade_calibration_figure(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """Mean PD against observed default rate by grade (log scale), the observed rate with its exact interval."""
    axes = _panels(len(tables), width=5.0)
    for ax, (name, table) in zip(axes, tables.items(), strict=True):
        graded = table[table["grade"] != "all"]
        grade = graded["grade"].astype(int).to_numpy()
        observed = graded["observed_rate"].to_numpy(dtype=float)
        ax.plot(grade, graded["expected_rate"], marker="s", label="expected (mean PD)")
        errors = np.vstack([observed - graded["observed_low"], graded["observed_high"] - observed])
        ax.errorbar(grade, observed, yerr=errors, fmt="o", capsize=3, label="observed, 95% exact interval")
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set(title=f"{name}: calibration by grade", xlabel="grade", ylabel="12-month default rate")
        ax.set_xticks(range(1, 11))
        ax.legend(fontsize=8)
    return axes[0].figure


def reliability_figure(data: OutOfTimeData) -> Figure:
    """Mean predicted probability against observed rate in deciles of the prediction, one panel per target."""
    axes = _panels(len(data.spec.targets), width=3.5, height=3.5)
    for ax, target in zip(axes, data.spec.targets, strict=True):
        y, p = data.outcomes(target)
        if len(y):
            table = reliability_table(y, p)
            top = max(table["mean_p"].max(), table["observed_rate"].max()) * 1.05
            ax.plot([0, top], [0, top], color="grey", lw=0.5)
            ax.plot(table["mean_p"], table["observed_rate"], marker="o")
        ax.set(title=f"{target.output} (n={len(y):,})", xlabel="mean predicted", ylabel="observed rate")
    return axes[0].figure


def psi_figure(reports: Mapping[str, pd.DataFrame], thresholds: DriftThresholds) -> Figure:
    """PSI of the score and top features per model, coloured by status, with the policy's levels."""
    height = 0.3 * max(len(r) for r in reports.values()) + 1.5
    axes = _panels(len(reports), width=4.6, height=height)
    for ax, (name, report) in zip(axes, reports.items(), strict=True):
        shown = report.iloc[::-1]
        ax.barh(shown["feature"], shown["psi"].fillna(0), color=[STATUS_COLOURS[s] for s in shown["status"]])
        for level, style in ((thresholds.psi_warning, "--"), (thresholds.psi_severe, "-")):
            ax.axvline(level, color="grey", ls=style, lw=0.8)
        ax.tick_params(axis="y", labelsize=7)
        ax.set(title=name, xlabel="PSI")
    return axes[0].figure


def contribution_summary_png(contributions: Contributions, data: OutOfTimeData) -> bytes:
    """PNG of the training run's SHAP summary plot (:func:`~riskmodel.models.plots.plot_contribution_summary`)."""
    target = next(t for t in data.spec.targets if t.output == contributions.output)
    empty = np.empty(0)
    evaluation = HeadEvaluation(  # only what the summary plot reads: target, kind, contributions, values
        target=target,
        kind=data.run.model.kind,
        y=empty,
        p=empty,
        p_train=empty,
        p_by_candidate={},
        cv_auc={},
        calibration_method="",
        importance={},
        contributions=contributions.values,
        feature_values=contributions.features,
        groups=empty,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = plot_contribution_summary(evaluation, contributions.names, Path(folder) / "summary.png")
        return path.read_bytes()


def dependence_figure(contributions: Contributions, features: list[str]) -> Figure:
    """Contribution against value for each feature (one dot per row), with the median contribution by value decile.

    Categorical features are drawn at their category positions, labelled by category.
    """
    axes = _panels(len(features), width=3.3, height=3.2)
    for ax, name in zip(axes, features, strict=True):
        j = contributions.names.index(name)
        x, shap = contributions.features[:, j], contributions.values[:, j]
        present = ~np.isnan(x)
        ax.scatter(x[present], shap[present], s=4, alpha=0.4)
        categories = contributions.categories.get(name)
        if categories:
            ax.set_xticks(range(len(categories)), categories, rotation=90, fontsize=7)
        elif present.sum() >= 10:
            deciles = pd.qcut(pd.Series(x[present]).rank(method="first"), 10, labels=False)
            trend = pd.DataFrame({"x": x[present], "c": shap[present], "d": deciles}).groupby("d").median()
            ax.plot(trend["x"], trend["c"], color="black", lw=1.2)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set(title=name, xlabel="category" if categories else "value")
        ax.title.set_fontsize(8)
    axes[0].set_ylabel("contribution (log-odds)")
    return axes[0].figure


def grade_distribution_figure(distribution: pd.DataFrame, title: str) -> Figure:
    """Share of rows by grade for each window (a column of ``distribution``), side by side."""
    figure = Figure(figsize=(8, 3.5), layout="constrained")
    ax = figure.subplots()
    width = 0.8 / max(distribution.shape[1], 1)
    for i, window in enumerate(distribution.columns):
        ax.bar(
            distribution.index + (i - (distribution.shape[1] - 1) / 2) * width,
            distribution[window],
            width,
            label=window,
        )
    ax.set_xticks(distribution.index)
    ax.set(title=title, xlabel="grade (1 best, 10 worst)", ylabel="share")
    ax.legend(fontsize=8)
    return figure


def migration_figure(matrix: pd.DataFrame, title: str) -> Figure:
    """Grade migration as row shares (colour) with customer counts, rows = grade at start."""
    figure = Figure(figsize=(7.5, 5.5), layout="constrained")
    ax = figure.subplots()
    counts = matrix.to_numpy(dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(counts):
        if count:
            ax.text(
                j,
                i,
                f"{int(count)}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if shares[i, j] > 0.6 else "black",
            )
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], fontsize=8)
    ax.set_yticks(range(matrix.shape[0]), [str(r) for r in matrix.index], fontsize=8)
    ax.set(title=title, xlabel=str(matrix.columns.name), ylabel=str(matrix.index.name))
    figure.colorbar(image, ax=ax, label="share of the start grade")
    return figure


def exposure_figure(exposure: pd.DataFrame) -> Figure:
    """Open balance, current limits and recommended limits by grade (the ``all`` row left out)."""
    graded = exposure[exposure["grade"] != "all"]
    figure = Figure(figsize=(8, 3.5), layout="constrained")
    ax = figure.subplots()
    position = graded["grade"].astype(int).to_numpy()
    for offset, column in zip(
        (-0.27, 0, 0.27), ("open_balance", "current_limit", "recommended_limit"), strict=True
    ):
        ax.bar(position + offset, graded[column] / 1e3, width=0.27, label=column.replace("_", " "))
    ax.set_xticks(range(1, 11))
    ax.set(title="exposure and limits by grade", xlabel="grade", ylabel="thousand")
    ax.legend(fontsize=8)
    return figure


def open_invoice_figure(table: pd.DataFrame) -> Figure:
    """Late payment on open invoices at later dates: mean conditional P(> k) against the observed share.

    One panel per threshold, one pair of bars per days-past-due bucket (``table`` from
    :func:`riskmodel.validation.summary.open_invoice_calibration`).
    """
    thresholds = list(dict.fromkeys(table["threshold"]))
    axes = _panels(len(thresholds), width=3.6)
    for ax, threshold in zip(axes, thresholds, strict=True):
        part = table[table["threshold"] == threshold]
        x = np.arange(len(part))
        ax.bar(x - 0.2, part["mean_p"], width=0.4, label="mean P (as of the month end)")
        ax.bar(x + 0.2, part["observed"], width=0.4, label="observed share")
        ax.set_xticks(x, part["days_past_due"], rotation=30, fontsize=7)
        ax.set(title=f"{threshold} on open invoices", xlabel="days past due at the month end", ylim=(0, 1))
    axes[0].legend(fontsize=7)
    return axes[0].figure


def cash_forecast_figure(backtest: CashBacktest) -> Figure:
    """Weekly MAPE by week ahead of the forecast and both baselines, and the latest forecast against what was collected."""
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    by_week, latest = figure.subplots(1, 2)
    errors = backtest.mape_by_week()
    for name, text in METHODS.items():
        by_week.plot(errors.index, errors[name] * 100, marker="o", label=text)
    by_week.set(title="portfolio: weekly MAPE by week ahead", xlabel="week ahead", ylabel="MAPE (%)")
    by_week.legend(fontsize=8)
    weeks = backtest.weeks[backtest.weeks["as_of"] == backtest.weeks["as_of"].max()]
    scale = 1e3
    latest.bar(weeks["week"], weeks["actual"] / scale, color="lightgrey", label="collected")
    latest.fill_between(
        weeks["week"], weeks["low"] / scale, weeks["high"] / scale, alpha=0.25, label="80 % band"
    )
    latest.plot(weeks["week"], weeks["model"] / scale, marker="o", label=METHODS["model"])
    for name in ("due_date", "average_delay"):
        latest.plot(weeks["week"], weeks[name] / scale, ls="--", label=METHODS[name])
    latest.set(
        title=f"forecast at {weeks['as_of'].iloc[0]} against the cash collected",
        xlabel="week",
        ylabel="thousand",
    )
    latest.legend(fontsize=7)
    return figure
