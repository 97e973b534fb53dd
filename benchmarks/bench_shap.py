"""SHAP values two ways on one LightGBM model: ``Booster.predict(pred_contrib=True)`` and ``shap.TreeExplainer``.

Trains a binary model on synthetic data, explains a batch and a single row each way,
and prints a markdown table with rows per second and the largest absolute difference
from LightGBM's own contributions.

    .venv/bin/python benchmarks/bench_shap.py                     # 300 trees, 31 leaves, 60 features, 10,000 rows
    .venv/bin/python benchmarks/bench_shap.py --rows 2000 --trees 100

For a LightGBM booster, ``TreeExplainer.shap_values`` calls ``booster.predict(pred_contrib=True)``
itself (shap/explainers/_tree.py). To time shap's own C++ TreeSHAP on the same trees, the
script also runs an explainer whose converted ensemble is marked ``internal``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np

TRAIN_ROWS = 20_000


def make_data(n_rows: int, n_features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features with a non-linear signal in a few columns and a binary label."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_rows, n_features))
    logit = 1.2 * x[:, 0] - 0.8 * x[:, 1] + 0.6 * x[:, 2] * x[:, 3] + 0.5 * np.abs(x[:, 4]) - 1.5
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def train(x: np.ndarray, y: np.ndarray, trees: int, leaves: int, seed: int) -> lgb.Booster:
    """A binary LightGBM booster without a depth cap (the LightGBM default)."""
    params = {
        "objective": "binary",
        "num_leaves": leaves,
        "learning_rate": 0.05,
        "min_data_in_leaf": 20,
        "verbose": -1,
        "seed": seed,
    }
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=trees)


def timed(run: Callable[[], Any]) -> tuple[float, np.ndarray]:
    """Seconds taken by ``run()`` and its result as an array."""
    start = time.perf_counter()
    result = np.asarray(run())
    return time.perf_counter() - start, result


def median_seconds(run: Callable[[], Any], repeats: int) -> float:
    """Median seconds of ``repeats`` calls."""
    times = [timed(run)[0] for _ in range(repeats)]
    return statistics.median(times)


def explainers(booster: lgb.Booster) -> dict[str, Callable[[np.ndarray], Any]]:
    """The methods compared, by table label; each returns contributions of shape (n, F) or (n, F + 1)."""
    import shap  # imported here: its import alone takes seconds (numba)

    warnings.filterwarnings("ignore", message=".*LightGBM binary classifier with TreeExplainer.*")
    delegating = shap.TreeExplainer(booster)
    own = shap.TreeExplainer(booster)
    own.model.model_type = "internal"
    threads = os.cpu_count()
    return {
        f"`Booster.predict(pred_contrib=True)`, {threads} threads": lambda x: booster.predict(
            x, pred_contrib=True
        ),
        "`Booster.predict(pred_contrib=True)`, 1 thread": lambda x: booster.predict(
            x, pred_contrib=True, num_threads=1
        ),
        f"`shap.TreeExplainer(booster).shap_values` (shap {shap.__version__}; calls LightGBM)": delegating.shap_values,
        "shap's own C++ TreeSHAP on the same trees": own.shap_values,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows explained in the batch")
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--leaves", type=int, default=31)
    parser.add_argument("--features", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    x, y = make_data(TRAIN_ROWS + args.rows, args.features, args.seed)
    booster = train(x[:TRAIN_ROWS], y[:TRAIN_ROWS], args.trees, args.leaves, args.seed)
    batch, one = x[TRAIN_ROWS:], x[TRAIN_ROWS : TRAIN_ROWS + 1]
    depth = booster.trees_to_dataframe().groupby("tree_index")["node_depth"].max().mean()
    reference = booster.predict(batch, pred_contrib=True)
    additivity = float(np.abs(reference.sum(axis=1) - booster.predict(batch, raw_score=True)).max())

    print(
        f"\nModel: {args.trees} trees, {args.leaves} leaves, mean depth {depth:.1f}, {args.features} features; "
        f"batch {args.rows:,} rows; {os.cpu_count()} CPU cores; lightgbm {lgb.__version__}\n"
    )
    print("| method | batch rows/s | one row (median of 50) | max abs diff vs pred_contrib |")
    print("|---|---:|---:|---:|")
    for label, explain in explainers(booster).items():
        seconds, values = timed(lambda explain=explain: explain(batch))
        diff = float(np.abs(values[:, : args.features] - reference[:, :-1]).max())
        one_row = median_seconds(lambda explain=explain: explain(one), 50)
        print(f"| {label} | {args.rows / seconds:,.0f} | {one_row * 1e3:.2f} ms | {diff:.1e} |")
    print(f"\nAdditivity: contributions + bias vs `predict(raw_score=True)`, max abs error {additivity:.1e}.")


if __name__ == "__main__":
    main()
