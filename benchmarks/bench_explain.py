"""Reason-code speed against accuracy for the default model: explained rows/s and out-of-time AUC side by side.

    .venv/bin/python benchmarks/bench_explain.py                      # data/sample
    .venv/bin/python benchmarks/bench_explain.py --ledger benchmarks/data/ledger_20000

Each variant is trained with the same pipeline (`riskmodel.models.fit_model`, GBM forced so
the trees are what is measured), validated on the same out-of-time slice, and its exact
TreeSHAP contributions are timed on that slice's rows (repeated to at least 20,000 rows).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

VARIANTS = {
    "shipped: depth 4, 15 leaves, early stopping (<= 400 trees)": {},
    "deep: up to 500 trees, 31 leaves, no depth cap": {
        "n_estimators": 500,
        "num_leaves": 31,
        "max_depth": -1,
        "min_child_samples": 20,
        "early_stopping_rounds": 10_000,
    },
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ledger", default=str(ROOT / "data" / "sample"))
    parser.add_argument("--rows", type=int, default=20_000, help="rows to explain per timing")
    args = parser.parse_args()

    from riskmodel.ledger import load_ledger
    from riskmodel.models import TrainConfig
    from riskmodel.models.fit import fit_model
    from riskmodel.models.specs import DEFAULT
    from riskmodel.training_tables import default_training_table

    ledger = load_ledger(args.ledger)
    table = default_training_table(ledger)
    print(
        f"default training table: {len(table):,} snapshots, {int(table['label_default_12m'].sum())} defaults"
    )
    print("| model | trees | mean leaf depth | out-of-time AUC | explained rows/s (1 thread) |")
    print("|---|---:|---:|---:|---:|")
    for name, overrides in VARIANTS.items():
        base = TrainConfig()
        config = dataclasses.replace(
            base, gbm=dataclasses.replace(base.gbm, **overrides), prefer_simple_within=-1.0
        )
        result = fit_model(DEFAULT, table, ledger.data_end, config)
        model = result.model
        rows = result.validation[model.feature_names]
        sample = pd.concat([rows] * int(np.ceil(args.rows / len(rows))), ignore_index=True).iloc[: args.rows]
        model.contributions(sample.iloc[:100])  # warm-up
        start = time.perf_counter()
        contributions, base_value = model.contributions(sample)
        seconds = time.perf_counter() - start
        assert np.allclose(contributions.sum(axis=1) + base_value, model.raw_score(sample), atol=1e-9)
        booster = model.heads[0].scorer.booster_
        dump = booster.dump_model()["tree_info"]
        depths = [_mean_leaf_depth(tree["tree_structure"]) for tree in dump]
        print(
            f"| {name} | {len(dump)} | {np.mean(depths):.1f} | {result.metrics['auc']:.4f} | {len(sample) / seconds:,.0f} |"
        )
    return 0


def _mean_leaf_depth(node: dict, depth: int = 0) -> float:
    leaves = []

    def walk(n: dict, d: int) -> None:
        if "leaf_index" in n or "leaf_value" in n and "left_child" not in n:
            leaves.append(d)
            return
        walk(n["left_child"], d + 1)
        walk(n["right_child"], d + 1)

    walk(node, depth)
    return float(np.mean(leaves))


if __name__ == "__main__":
    sys.exit(main())
