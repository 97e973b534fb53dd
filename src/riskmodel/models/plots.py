"""Validation plots (PNG): ROC, calibration, score distribution, contribution summary, importance.

Figures are drawn on :class:`matplotlib.figure.Figure` with the Agg canvas, so no global
pyplot state or display backend is touched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from riskmodel.models.fit import HeadEvaluation
from riskmodel.models.metrics import auc, reliability_table

TOP_FEATURES = 15


def _panels(n: int, height: float = 4.0) -> tuple[Figure, list]:
    figure = Figure(figsize=(4.2 * n, height), layout="constrained")
    axes = figure.subplots(1, n, squeeze=False)[0]
    return figure, list(axes)


def _title(e: HeadEvaluation) -> str:
    return f"{e.target.output} (n={len(e.y):,}, positive={int(e.y.sum()):,})"


def plot_roc(evaluations: list[HeadEvaluation], path: Path) -> Path:
    """ROC curve of the chosen model and of both candidates, one panel per target."""
    figure, axes = _panels(len(evaluations))
    for ax, e in zip(axes, evaluations, strict=True):
        for name, p in {"chosen": e.p, **e.p_by_candidate}.items():
            if len(np.unique(e.y)) == 2:
                fpr, tpr, _ = roc_curve(e.y, p)
                ax.plot(
                    fpr,
                    tpr,
                    lw=2 if name == "chosen" else 1,
                    ls="-" if name == "chosen" else "--",
                    label=f"{name} AUC {auc(e.y, p):.3f}",
                )
        ax.plot([0, 1], [0, 1], color="grey", lw=0.5)
        ax.set(title=_title(e), xlabel="false positive rate", ylabel="true positive rate")
        ax.legend(loc="lower right", fontsize=8)
    figure.savefig(path, dpi=90)
    return path


def plot_calibration(evaluations: list[HeadEvaluation], path: Path) -> Path:
    """Mean predicted probability against observed rate in deciles of the prediction."""
    figure, axes = _panels(len(evaluations))
    for ax, e in zip(axes, evaluations, strict=True):
        if len(e.y):
            table = reliability_table(e.y, e.p)
            top = max(table["mean_p"].max(), table["observed_rate"].max()) * 1.05
            ax.plot([0, top], [0, top], color="grey", lw=0.5)
            ax.plot(table["mean_p"], table["observed_rate"], marker="o")
        ax.set(title=_title(e), xlabel="mean predicted probability", ylabel="observed rate")
    figure.savefig(path, dpi=90)
    return path


def plot_score_distribution(evaluations: list[HeadEvaluation], path: Path) -> Path:
    """Histogram of the predicted probability (log scale) for each outcome."""
    figure, axes = _panels(len(evaluations))
    for ax, e in zip(axes, evaluations, strict=True):
        bins = (
            np.logspace(np.log10(max(e.p.min(), 1e-6)), np.log10(max(e.p.max(), 1e-5)), 30)
            if len(e.p)
            else 10
        )
        for outcome, label in ((0, "no event"), (1, "event")):
            values = e.p[e.y == outcome]
            if len(values):
                ax.hist(values, bins=bins, density=True, alpha=0.5, label=f"{label} ({len(values):,})")
        ax.set_xscale("log")
        ax.set(title=_title(e), xlabel="predicted probability", ylabel="density")
        ax.legend(fontsize=8)
    figure.savefig(path, dpi=90)
    return path


def _top(values: np.ndarray, names: list[str]) -> list[int]:
    order = np.argsort(values)[::-1][: min(TOP_FEATURES, len(names))]
    return [int(i) for i in order if values[i] > 0]


def plot_contribution_summary(e: HeadEvaluation, feature_names: list[str], path: Path) -> Path:
    """SHAP-style summary: each dot a validation row, x its contribution, colour the feature's value rank."""
    figure = Figure(figsize=(7, 0.35 * TOP_FEATURES + 1.5), layout="constrained")
    ax = figure.subplots()
    top = _top(
        np.abs(e.contributions).mean(axis=0) if e.contributions.size else np.zeros(len(feature_names)),
        feature_names,
    )
    rng = np.random.default_rng(0)
    for row, j in enumerate(reversed(top)):
        values = e.feature_values[:, j]
        present = ~np.isnan(values)
        colour = np.full(len(values), 0.5)
        if present.sum() > 1:
            colour[present] = values[present].argsort().argsort() / (present.sum() - 1)
        jitter = rng.uniform(-0.3, 0.3, len(values))
        ax.scatter(
            e.contributions[:, j], row + jitter, c=colour, cmap="coolwarm", s=4, alpha=0.6, vmin=0, vmax=1
        )
    ax.set_yticks(range(len(top)), [feature_names[j] for j in reversed(top)], fontsize=8)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set(
        title=f"{e.target.output}: contributions to the log-odds ({e.kind}); colour = value rank (blue low, red high)",
        xlabel="contribution to the raw score (log-odds)",
    )
    ax.title.set_fontsize(9)
    figure.savefig(path, dpi=90)
    return path


def plot_importance(e: HeadEvaluation, feature_names: list[str], path: Path) -> Path:
    """Feature importance of both candidates: GBM split gain and scorecard term spread."""
    figure, axes = _panels(2, height=0.3 * TOP_FEATURES + 1.5)
    labels = {"gbm": "GBM: total split gain", "scorecard": "scorecard: |coef| x WoE range"}
    for ax, (name, values) in zip(axes, e.importance.items(), strict=False):
        top = _top(values, feature_names) if len(values) else []
        ax.barh(range(len(top)), [values[j] for j in reversed(top)])
        ax.set_yticks(range(len(top)), [feature_names[j] for j in reversed(top)], fontsize=8)
        ax.set(title=f"{e.target.output}: {labels.get(name, name)}")
        ax.title.set_fontsize(9)
    figure.savefig(path, dpi=90)
    return path


def write_plots(evaluations: list[HeadEvaluation], feature_names: list[str], folder: Path) -> list[Path]:
    """Every validation plot of a fitted model into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [
        plot_roc(evaluations, folder / "roc.png"),
        plot_calibration(evaluations, folder / "calibration.png"),
        plot_score_distribution(evaluations, folder / "score_distribution.png"),
    ]
    for e in evaluations:
        if e.kind == "observed_rate":
            continue
        paths.append(
            plot_contribution_summary(e, feature_names, folder / f"shap_summary_{e.target.output}.png")
        )
        paths.append(plot_importance(e, feature_names, folder / f"feature_importance_{e.target.output}.png"))
    return paths
