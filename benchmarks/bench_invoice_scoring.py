"""Time of scoring open invoices (``riskmodel.scoring.score_open_invoices``) with the late-payment champion.

Two sizes: every invoice open at ``--as-of`` (what rescoring and ``/portfolio`` score) and
the open invoices of one customer (what ``/score`` and ``/invoice_risk`` score). Features are
included, so the figures compare model versions end to end on the same ledger. Each size is
timed twice: *cold*, on a fresh copy of the ledger, so the invoices' features at issue are
computed in the call (a month-end rescore, a service's first request), and *warm*, with them
kept from an earlier call on the same ledger (the service's later requests). Run it with the
stores of two versions to compare them:

    .venv/bin/python benchmarks/bench_invoice_scoring.py --tracking-uri sqlite:///$PWD/mlflow.db
    .venv/bin/python benchmarks/bench_invoice_scoring.py --tracking-uri sqlite:///$PWD/mlflow.db --customer C000069 --repeat 7

Prints the medians (and min/max) in milliseconds and, as the last line, JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import logging
import os
import statistics
import time
from datetime import date
from pathlib import Path

import pandas as pd

from riskmodel.ledger import load_ledger
from riskmodel.scoring import ModelBundle, open_invoices, score_open_invoices

REPO = Path(__file__).resolve().parents[1]


def _timed(run, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"), required=False)
    parser.add_argument("--ledger", default=str(REPO / "data" / "sample"))
    parser.add_argument("--as-of", type=date.fromisoformat, default=None)
    parser.add_argument("--customer", default="C000069")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    ledger = load_ledger(args.ledger)
    as_of = args.as_of or ledger.data_end
    bundle = ModelBundle.from_registry(args.tracking_uri)
    if bundle.late_payment is None:
        raise SystemExit(f"no late-payment champion in {args.tracking_uri}; train one first")
    portfolio = open_invoices(ledger, as_of)
    customer = open_invoices(ledger, as_of, [args.customer])
    score_open_invoices(bundle, dataclasses.replace(ledger), customer)  # warm-up of the code paths
    score_open_invoices(bundle, ledger, portfolio)  # keeps the features at issue for the warm runs
    results = {}
    sizes = (("portfolio", portfolio), ("one customer", customer))
    for (size, invoices), state in itertools.product(sizes, ("cold", "warm")):
        name = f"{size}, {state}"

        def run(invoices: pd.DataFrame = invoices, state: str = state) -> None:
            scored_on = dataclasses.replace(ledger) if state == "cold" else ledger
            score_open_invoices(bundle, scored_on, invoices)

        times = _timed(run, args.repeat)
        results[name] = {
            "invoices": len(invoices),
            "median_ms": round(statistics.median(times), 1),
            "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1),
        }
        print(
            f"{name}: {len(invoices):,} open invoices, median {statistics.median(times):.1f} ms "
            f"(min {min(times):.1f}, max {max(times):.1f}) over {args.repeat} runs"
        )
    print(json.dumps({"as_of": as_of.isoformat(), "model_version": bundle.model_version} | results))


if __name__ == "__main__":
    main()
