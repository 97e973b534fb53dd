"""Time of pushing rows into the served ledger (``POST /ledger``), in process, and of the next ``/score``.

Builds the service's scorer (champions from ``--tracking-uri``) on a copy of the ledger,
then pushes ``--pushes`` batches of one new invoice each (one a day after the data end)
and scores that invoice's customer after each push. The push includes checking the batch
with the ledger rules, the durable journal write and rebuilding what the service derives
from the ledger; HTTP adds about a millisecond on loopback.

    .venv/bin/python benchmarks/bench_push.py --tracking-uri sqlite:///$PWD/mlflow.db

Prints the medians (and min/max) in milliseconds and, as the last line, JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from riskmodel.ledger import load_ledger
from riskmodel.scoring import ModelBundle
from riskmodel.service.scorer import RiskScorer
from riskmodel.store import ResultsStore

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"))
    parser.add_argument("--ledger", default=str(REPO / "data" / "sample"))
    parser.add_argument("--customer", default="C000069")
    parser.add_argument("--pushes", type=int, default=7)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as work:
        ledger_dir = Path(work) / "ledger"
        shutil.copytree(args.ledger, ledger_dir, ignore=shutil.ignore_patterns("pushed_rows.sqlite"))
        bundle = ModelBundle.from_registry(args.tracking_uri)
        scorer = RiskScorer(bundle, load_ledger(ledger_dir), ResultsStore(f"sqlite:///{work}/results.db"))
        push_ms, score_ms = [], []
        for i in range(args.pushes):
            day = scorer.data_end + timedelta(days=1)
            invoice = {
                "invoice_id": f"BENCH-{i}",
                "customer_id": args.customer,
                "issue_date": day.isoformat(),
                "due_date": (day + timedelta(days=30)).isoformat(),
                "amount": 1000.0,
            }
            started = time.perf_counter()
            scorer.push({"invoices": [invoice]})
            push_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            answer = scorer.score(args.customer, None, "en")
            score_ms.append((time.perf_counter() - started) * 1000)
            assert invoice["invoice_id"] in [o["invoice_id"] for o in answer["open_invoices"]]
    results = {
        name: {
            "median_ms": round(statistics.median(times), 1),
            "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1),
        }
        for name, times in (("push one invoice", push_ms), ("next /score", score_ms))
    }
    for name, r in results.items():
        print(f"{name}: median {r['median_ms']} ms (min {r['min_ms']}, max {r['max_ms']}) over {args.pushes}")
    print(json.dumps({"ledger": args.ledger, "load": os.getloadavg()[0], **results}))


if __name__ == "__main__":
    main()
