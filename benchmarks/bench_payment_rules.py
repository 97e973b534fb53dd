"""How well the policy's payment-behaviour rules grade customers, against the defaults that followed.

The rules grade customers when no default model is registered. This script builds the
default model's training table of a ledger (month-end snapshots of performing customers,
each with its 12-month default label; snapshots whose year is not yet observed are left
out), grades every snapshot by the rules, and prints per grade the snapshots, the observed
default rate and the PD the rules answer (the grade's central PD), with the AUC of the rule
grade and the mean PD against the base rate.

    .venv/bin/python benchmarks/bench_payment_rules.py                      # data/sample, the shipped policy
    .venv/bin/python benchmarks/bench_payment_rules.py LEDGER --policy my_policy.yaml

Prints a markdown table and writes it to ``benchmarks/results/payment_rules.md``.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

from riskmodel.features.definitions import FeatureConfig
from riskmodel.ledger import load_ledger
from riskmodel.policy import load_policy
from riskmodel.policy.payment_rules import grade_by_payment_rules
from riskmodel.training_tables import default_training_table

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "payment_rules.md"
LABEL = "label_default_12m"


def grade_table(ledger_dir: Path, policy_path: Path | None) -> tuple[str, dict[str, float]]:
    """The markdown table of observed default rates per rule grade, and the headline figures."""
    policy = load_policy(policy_path)
    ledger = load_ledger(ledger_dir)
    table = default_training_table(ledger, None, 12, FeatureConfig(), policy.default)
    table = table[table[LABEL].notna()]
    scored = grade_by_payment_rules(policy, table)
    frame = pd.DataFrame({"grade": scored.grade, "pd_12m": scored.pd_12m, "default": table[LABEL].to_numpy()})
    rows = [
        "| grade | snapshots | defaults | observed 12-month default rate | rules' PD (central) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for grade, group in frame.groupby("grade"):
        rows.append(
            f"| {grade} | {len(group):,} | {int(group['default'].sum()):,} | {group['default'].mean():.2%} "
            f"| {group['pd_12m'].iloc[0]:.2%} |"
        )
    headline = {
        "snapshots": float(len(frame)),
        "customers": float(table["customer_id"].nunique()),
        "base_rate": float(frame["default"].mean()),
        "mean_pd": float(frame["pd_12m"].mean()),
        "auc": float(roc_auc_score(frame["default"], frame["grade"])),
    }
    return "\n".join(rows), headline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledger", nargs="?", type=Path, default=REPO / "data" / "sample")
    parser.add_argument("--policy", type=Path, help="policy YAML (default: the shipped policy)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    table, headline = grade_table(args.ledger, args.policy)
    policy = load_policy(args.policy)
    text = "\n".join(
        [
            "# Payment-behaviour rules against observed defaults",
            "",
            f"Measured {time.strftime('%Y-%m-%d')} by `benchmarks/bench_payment_rules.py` on `{args.ledger.name}` "
            f"with policy {policy.version}: {headline['snapshots']:,.0f} month-end snapshots of "
            f"{headline['customers']:,.0f} performing customers with a fully observed year.",
            "",
            table,
            "",
            f"AUC of the rule grade {headline['auc']:.3f}; mean rules' PD {headline['mean_pd']:.2%} against an "
            f"observed base rate of {headline['base_rate']:.2%} ({time.perf_counter() - started:.0f} s).",
            "",
        ]
    )
    print(text)
    OUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
