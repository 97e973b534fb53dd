"""Time of scoring open invoices (``riskmodel.scoring.score_open_invoices``) with the late-payment champion.

Two sizes: every invoice open at ``--as-of`` (what rescoring and ``/portfolio`` score) and
the open invoices of one customer (what ``/score`` and ``/invoice_risk`` score). Features are
included (they are computed inside the call), so the figures compare model versions end to
end on the same ledger. Run it with the stores of two versions to compare them:

    .venv/bin/python benchmarks/bench_invoice_scoring.py --tracking-uri sqlite:///$PWD/mlflow.db
    .venv/bin/python benchmarks/bench_invoice_scoring.py --tracking-uri sqlite:///$PWD/mlflow.db --customer C000069 --repeat 7

Prints the medians (and min/max) in milliseconds and, as the last line, JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from datetime import date
from pathlib import Path

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
    score_open_invoices(bundle, ledger, customer)  # warm-up
    results = {}
    for name, invoices in (("portfolio", portfolio), ("one customer", customer)):
        times = _timed(lambda invoices=invoices: score_open_invoices(bundle, ledger, invoices), args.repeat)
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
