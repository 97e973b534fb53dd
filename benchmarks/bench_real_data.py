"""Public credit data sets through the same training code, next to their published AUCs (issue 4).

Each split holds out a stratified share of the rows (``validation_share`` of the data set's
config, 30 %) that is only scored at the end; the rest goes through ``fit_model_on_split``:
GBM and scorecard compared on stratified folds (``cv_folds``), calibration cross-fitted on
them, and the chosen model fitted on all of the rest.

    .venv/bin/python benchmarks/bench_real_data.py              # Taiwan and German, seeds 0 1 2, with and without protected attributes
    .venv/bin/python benchmarks/bench_real_data.py --data-sets taiwan --seeds 0 --protected exclude
    .venv/bin/python benchmarks/bench_real_data.py --tune       # also choose GBM parameters per split on its folds

Each mean over the splits comes with a bootstrap interval of the hold-out rows
(:func:`riskmodel.validation.stats.mean_auc_interval`: every resample redraws the data set's
held-out rows within each outcome and averages the splits' AUCs; rows held out by several
splits move together). It measures how much the hold-out sample moves the mean, not how much
refitting would. Prints a markdown table and writes it to ``benchmarks/results/real_data.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskmodel.models.config import TrainConfig, load_train_config
from riskmodel.models.fit import FitResult, fit_model_on_split
from riskmodel.models.metrics import auc
from riskmodel.realdata import RealDataSet, load_german, load_taiwan, stratified_holdout
from riskmodel.realdata import taiwan as taiwan_set
from riskmodel.validation.stats import mean_auc_interval

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("RISKMODEL_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
CONFIG_DIR = REPO / "training" / "configs"
OUT = REPO / "benchmarks" / "results" / "real_data.md"

LOADERS: dict[str, tuple[Callable[..., RealDataSet], str]] = {
    "taiwan": (load_taiwan, "taiwan_default_credit_card"),
    "german": (load_german, "german_credit"),
}
PUBLISHED: dict[str, list[tuple[str, str]]] = {  # quoted from each data set's README.md
    "taiwan": [
        ("XGBoost, hold-out (zkneupper/Default-Prediction-Capstone)", "0.780"),
        ("logistic regression, same hold-out (zkneupper/Default-Prediction-Capstone)", "0.765"),
        ("LightGBM defaults on the raw 23 columns, stratified 30 % hold-out, mean of 3 splits", "0.778"),
        ("tuned LightGBM with a few payment-history features, same splits", "0.785"),
        ("LR / RF / XGBoost with SMOTE, 20 % hold-out (Liu 2025)", "0.726 / 0.757 / 0.761"),
        ("five models, grid search (Zhang 2026)", "0.764 (logistic)"),
    ],
    "german": [],
}
TARGETS = {"taiwan": 0.788}  # mean hold-out AUC of the chosen model without protected attributes
# Per-split GBM choices for --tune: overrides of the config's gbm section
GBM_GRID: tuple[dict[str, object], ...] = (
    {},
    {"max_depth": 4, "num_leaves": 15, "min_child_samples": 200},
    {"max_depth": 6, "num_leaves": 63, "min_child_samples": 200, "colsample_bytree": 0.5},
    {"min_child_samples": 50, "reg_lambda": 20.0},
)


@dataclass(frozen=True)
class SplitRun:
    """Hold-out measures of one data set, protected-attribute setting and seed."""

    data_set: str
    protected: bool
    seed: int
    kind: str
    auc: float
    gbm_auc: float
    scorecard_auc: float
    brier: float
    cv_gbm_auc: float
    cv_scorecard_auc: float
    n_trees: int
    gbm_choice: str
    n_train: int
    n_holdout: int
    seconds: float
    holdout_ids: np.ndarray
    holdout_y: np.ndarray
    holdout_p: dict[str, np.ndarray]  # calibrated PD of the hold-out rows: chosen, gbm, scorecard


def run_split(
    name: str, data: RealDataSet, config: TrainConfig, seed: int, tune: bool, protected: bool
) -> SplitRun:
    """Fit on the rows outside the seed's hold-out and measure on the hold-out."""
    started = time.perf_counter()
    rest, holdout = stratified_holdout(data.table, data.label, config.validation_share, seed)
    result, choice = _fit(data, rest, holdout, config, tune)
    m = result.metrics
    gbm = result.model.heads[0].scorer if result.kind == "gbm" else None
    return SplitRun(
        data_set=name,
        protected=protected,
        seed=seed,
        kind=result.kind,
        auc=m["auc"],
        gbm_auc=m["gbm_auc"],
        scorecard_auc=m["scorecard_auc"],
        brier=m["brier"],
        cv_gbm_auc=result.cv_auc["gbm"],
        cv_scorecard_auc=result.cv_auc["scorecard"],
        n_trees=getattr(gbm, "n_trees_", -1),
        gbm_choice=choice,
        n_train=len(rest),
        n_holdout=len(holdout),
        seconds=time.perf_counter() - started,
        holdout_ids=result.validation[data.spec.key_column].to_numpy(),
        holdout_y=result.heads[0].y,
        holdout_p={"chosen": result.heads[0].p, **result.heads[0].p_by_candidate},
    )


def _fit(
    data: RealDataSet, rest: pd.DataFrame, holdout: pd.DataFrame, config: TrainConfig, tune: bool
) -> tuple[FitResult, str]:
    """The config's model, or with ``tune`` the GBM_GRID entry whose mean fold GBM AUC is highest."""
    if not tune:
        return fit_model_on_split(data.spec, rest, holdout, config, data.features), "config"
    fits = []
    for overrides in GBM_GRID:
        gbm = dataclasses.replace(config.gbm, **overrides)
        fits.append(
            fit_model_on_split(data.spec, rest, holdout, dataclasses.replace(config, gbm=gbm), data.features)
        )
    best = int(np.argmax([f.cv_auc["gbm"] for f in fits]))
    return fits[best], _describe(GBM_GRID[best])


def _describe(overrides: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in overrides.items()) or "config"


def reference_lightgbm_auc(data_dir: Path, share: float, seed: int, threads: int) -> float:
    """LightGBM with default settings on the raw 23 columns of the Taiwan file (the README's 0.778 setup)."""
    raw, _ = taiwan_set.read_taiwan(data_dir / LOADERS["taiwan"][1])
    rest, holdout = stratified_holdout(raw, taiwan_set.SOURCE_LABEL, share, seed)
    columns = [c for c in raw.columns if c not in ("ID", taiwan_set.SOURCE_LABEL)]
    model = lgb.LGBMClassifier(random_state=seed, n_jobs=threads, verbosity=-1)
    model.fit(rest[columns], rest[taiwan_set.SOURCE_LABEL])
    return auc(holdout[taiwan_set.SOURCE_LABEL].to_numpy(), model.predict_proba(holdout[columns])[:, 1])


def _fmt(values: list[float]) -> list[str]:
    return [f"{v:.4f}" for v in values] + [f"**{np.mean(values):.4f}**"]


def mean_with_interval(
    runs: list[SplitRun], model: str, args: argparse.Namespace
) -> tuple[float, float, float]:
    """Mean hold-out AUC of ``model`` (chosen, gbm, scorecard) over ``runs`` and its bootstrap interval."""
    holdouts = [(r.holdout_ids, r.holdout_y, r.holdout_p[model]) for r in runs]
    return mean_auc_interval(holdouts, args.resamples, args.level, seed=0)


def _interval(values: tuple[float, float, float]) -> str:
    return f"{values[1]:.4f}–{values[2]:.4f}"


def markdown(
    runs: list[SplitRun],
    references: dict[int, float],
    args: argparse.Namespace,
    configs: dict[str, TrainConfig],
) -> str:
    """The results as markdown: one section per data set, published figures underneath."""
    lines = [
        "# Real-data benchmark",
        "",
        f"`{' '.join(['benchmarks/bench_real_data.py', *sys.argv[1:]])}` — python {platform.python_version()}, "
        f"lightgbm {lgb.__version__}, {time.strftime('%Y-%m-%d')}.",
        "",
        "AUC on stratified hold-outs that no fitting, choice or calibration step saw. The rest of each split "
        "goes through `riskmodel.models.fit.fit_model_on_split`, the same code path as the ledger models: "
        "a monotone LightGBM and a WoE scorecard compared on stratified folds (the GBM only when its gain is "
        "significant), calibrated on their out-of-fold scores, then fitted on all of the rest. *chosen* is that "
        "calibrated model, *GBM* and *scorecard* the two calibrated candidates.",
        "",
        f"*{args.level:.0%} interval*: percentile bootstrap of the hold-out rows ({args.resamples:,} resamples; each "
        "redraws the data set's held-out rows within each outcome, rows held out by several splits together, and "
        "averages the splits' AUCs). It shows how much the hold-out sample moves the mean, not how much another "
        "fit would.",
    ]
    for name in args.data_sets:
        config = configs[name]
        seeds = args.seeds
        runs_here = [r for r in runs if r.data_set == name]
        if not runs_here:
            continue
        first = runs_here[0]
        lines += [
            "",
            f"## {name.capitalize()}",
            "",
            f"{first.n_train + first.n_holdout:,} rows; hold-out {config.validation_share:.0%} ({first.n_holdout:,} rows), "
            f"the other {first.n_train:,} in {config.cv_folds} stratified folds (choice and cross-fitted calibration), "
            "then all of them to fit the model "
            f"(`training/configs/{name}.yaml`{', GBM parameters chosen per split with --tune' if args.tune else ''}).",
            "",
            "| model | protected attributes | "
            + " | ".join(f"seed {s}" for s in seeds)
            + f" | mean | {args.level:.0%} interval |",
            "|---|---|" + "---|" * (len(seeds) + 2),
        ]
        for protected in sorted({r.protected for r in runs_here}):
            group = sorted((r for r in runs_here if r.protected == protected), key=lambda r: r.seed)
            label = "included" if protected else "excluded"
            kinds = "/".join(r.kind for r in group)
            for title, model, values in (
                (f"chosen ({kinds}), calibrated", "chosen", [r.auc for r in group]),
                ("GBM (monotone LightGBM)", "gbm", [r.gbm_auc for r in group]),
                ("scorecard baseline (WoE logistic)", "scorecard", [r.scorecard_auc for r in group]),
            ):
                interval = _interval(mean_with_interval(group, model, args))
                lines.append(f"| {title} | {label} | " + " | ".join(_fmt(values)) + f" | {interval} |")
        if name == "taiwan" and references:
            lines.append(
                "| reference: LightGBM defaults on the raw 23 columns (this script, same splits) | included | "
                + " | ".join(_fmt([references[s] for s in seeds]))
                + " | |"
            )
        lines += ["", summary_line(name, runs_here, args)]
        lines += [
            "",
            "Mean AUC on the stratified folds (inner, used for the choice), trees kept (summed over a GBM's bags), hold-out Brier score:",
            "",
        ]
        lines += [
            "| protected | seed | fold GBM | fold scorecard | trees (GBM chosen) | GBM parameters | Brier | seconds |"
        ]
        lines += ["|---|---|---|---|---|---|---|---|"]
        for r in sorted(runs_here, key=lambda r: (r.protected, r.seed)):
            lines.append(
                f"| {'included' if r.protected else 'excluded'} | {r.seed} | {r.cv_gbm_auc:.4f} | "
                f"{r.cv_scorecard_auc:.4f} | {r.n_trees if r.n_trees >= 0 else '-'} | {r.gbm_choice} | "
                f"{r.brier:.4f} | {r.seconds:.0f} |"
            )
        lines += ["", "Published (quoted in the data set's README.md):", ""]
        if PUBLISHED[name]:
            lines += ["| setup | AUC |", "|---|---|"] + [f"| {s} | {a} |" for s, a in PUBLISHED[name]]
        else:
            lines.append(
                "The README quotes no published AUC for this data set, so there is nothing to set beside it."
            )
    return "\n".join(lines) + "\n"


def summary_line(name: str, runs: list[SplitRun], args: argparse.Namespace) -> str:
    """Mean hold-out AUC of the chosen model with its interval, per protected setting, and the target if any."""
    parts = []
    for protected in sorted({r.protected for r in runs}):
        group = [r for r in runs if r.protected == protected]
        mean, lower, upper = mean_with_interval(group, "chosen", args)
        parts.append(
            f"{mean:.4f} ({args.level:.0%} interval {lower:.4f}–{upper:.4f}) "
            f"{'with' if protected else 'without'} protected attributes"
        )
    text = f"{name.capitalize()}: mean hold-out AUC of the chosen model {'; '.join(parts)}."
    excluded = [r.auc for r in runs if not r.protected]
    if name in TARGETS and excluded:
        reached = "reached" if np.mean(excluded) >= TARGETS[name] else "not reached"
        text += f" Target: >= {TARGETS[name]} without protected attributes ({reached})."
    return text


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="folder holding the data set folders")
    parser.add_argument("--config-dir", type=Path, default=CONFIG_DIR, help="folder holding <data set>.yaml")
    parser.add_argument("--data-sets", nargs="+", choices=list(LOADERS), default=list(LOADERS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="hold-out split seeds")
    parser.add_argument("--protected", choices=("exclude", "include", "both"), default="both")
    parser.add_argument(
        "--tune", action="store_true", help="choose GBM parameters per split on its selection slice"
    )
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples of the interval")
    parser.add_argument("--level", type=float, default=0.95, help="coverage of the interval (0.9, 0.95)")
    parser.add_argument("--no-reference", action="store_true", help="skip the raw-column LightGBM reference")
    parser.add_argument("--out", type=Path, default=OUT, help="markdown file to write ('-' for none)")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not 0 < args.level < 1 or args.resamples < 1:
        raise SystemExit(
            f"--level must be within (0, 1) and --resamples at least 1; got {args.level}, {args.resamples}"
        )
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    settings = {"exclude": [False], "include": [True], "both": [False, True]}[args.protected]
    configs = {name: load_train_config(args.config_dir / f"{name}.yaml") for name in args.data_sets}
    runs, references = [], {}
    for name in args.data_sets:
        load, folder = LOADERS[name]
        for protected in settings:
            data = load(args.data_dir / folder, include_protected=protected)
            for seed in args.seeds:
                run = run_split(name, data, configs[name], seed, args.tune, protected)
                print(
                    f"{name} protected={'in' if protected else 'out'} seed {seed}: {run.kind} AUC {run.auc:.4f} "
                    f"(gbm {run.gbm_auc:.4f}, scorecard {run.scorecard_auc:.4f}) {run.seconds:.0f}s",
                    file=sys.stderr,
                )
                runs.append(run)
    if "taiwan" in args.data_sets and not args.no_reference:
        config = configs["taiwan"]
        references = {
            seed: reference_lightgbm_auc(args.data_dir, config.validation_share, seed, config.threads)
            for seed in args.seeds
        }
    text = markdown(runs, references, args, configs)
    print(text)
    for name in args.data_sets:
        print(summary_line(name, [r for r in runs if r.data_set == name], args), file=sys.stderr)
    if str(args.out) != "-":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
