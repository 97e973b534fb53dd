"""Time of pushing rows into the served ledger (``POST /ledger``), in process, and of the next ``/score``.

Builds the service's scorer (champions from ``--tracking-uri``, the data end's inputs and
answers worked out as the service does) on a copy of the ledger, then pushes ``--pushes``
batches of one new invoice each, in turn dated a day after the data end (the data end
moves: the service works out the new date in the background) and on the data end (the
touched customer's inputs are worked out again in the background), and scores that
invoice's customer after each push; a second scorer on the same ledger (another worker)
then applies the pushed rows from the journal. Before each push the scorer is left to
finish its background work. The push includes checking the batch with the ledger rules,
the durable journal write and what the service derives from the ledger; HTTP adds about
a millisecond on loopback.

    .venv/bin/python benchmarks/bench_push.py --tracking-uri sqlite:///$PWD/mlflow.db
    .venv/bin/python benchmarks/bench_push.py --tracking-uri sqlite:///$PWD/mlflow.db --http --pushes 12

With ``--http`` the pushes go through ``POST /ledger`` of a started service (its default
two workers, or ``--workers``), each followed by ``POST /score`` of that customer.

Prints the medians (and min/max) in milliseconds and, as the last line, JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from riskmodel.ledger import load_ledger
from riskmodel.scoring import ModelBundle
from riskmodel.service.scorer import RiskScorer
from riskmodel.store import ResultsStore

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_service's service starter
NAMES = [
    f"{what} {kind}"
    for kind in ("moving the data end", "on the data end")
    for what in ("push one invoice", "next /score after a push", "another worker applies the push")
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"))
    parser.add_argument("--ledger", default=str(REPO / "data" / "sample"))
    parser.add_argument("--customer", default="C000069")
    parser.add_argument("--pushes", type=int, default=8, help="pushes, half of each kind (default 8)")
    parser.add_argument(
        "--http",
        action="store_true",
        help="through a running service (POST /ledger, then POST /score), invoices on the data end",
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="with --http: service workers (default: the service's)"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if args.http:
        results = over_http(args)
        for name, r in results.items():
            print(
                f"{name}: median {r['median_ms']} ms (min {r['min_ms']}, max {r['max_ms']}) over {r['pushes']}"
            )
        print(
            json.dumps(
                {"ledger": args.ledger, "load": os.getloadavg()[0], "workers": args.workers, **results}
            )
        )
        return
    with tempfile.TemporaryDirectory() as work:
        ledger_dir = Path(work) / "ledger"
        shutil.copytree(args.ledger, ledger_dir, ignore=shutil.ignore_patterns("pushed_rows.sqlite"))
        bundle = ModelBundle.from_registry(args.tracking_uri)
        scorer = RiskScorer(
            bundle, load_ledger(ledger_dir), ResultsStore(f"sqlite:///{work}/results.db"), prepare_today=True
        )
        other = RiskScorer(bundle, load_ledger(ledger_dir), ResultsStore(f"sqlite:///{work}/other.db"))
        times: dict[str, list[float]] = {name: [] for name in NAMES}
        for i in range(args.pushes):
            while (
                scorer.today is None
                or scorer.today.as_of != scorer.data_end
                or scorer.today.customer(args.customer) is None  # the last push's renewal
            ):
                time.sleep(0.05)
            time.sleep(1)  # the answers and features at issue after the inputs
            moves = i % 2 == 0
            day = scorer.data_end + timedelta(days=1 if moves else 0)
            invoice = {
                "invoice_id": f"BENCH-{i}",
                "customer_id": args.customer,
                "issue_date": day.isoformat(),
                "due_date": (day + timedelta(days=30)).isoformat(),
                "amount": 1000.0,
            }
            started = time.perf_counter()
            scorer.push({"invoices": [invoice]})
            push_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            answer = scorer.score(args.customer, None, "en")
            score_ms = (time.perf_counter() - started) * 1000
            assert invoice["invoice_id"] in [o["invoice_id"] for o in answer["open_invoices"]]
            started = time.perf_counter()
            other.catch_up()
            catch_up_ms = (time.perf_counter() - started) * 1000
            assert other.pushed_rows == scorer.pushed_rows
            kind = "moving the data end" if moves else "on the data end"
            times[f"push one invoice {kind}"].append(push_ms)
            times[f"next /score after a push {kind}"].append(score_ms)
            times[f"another worker applies the push {kind}"].append(catch_up_ms)
        scorer.close()
    results = summary(times)
    for name, r in results.items():
        print(f"{name}: median {r['median_ms']} ms (min {r['min_ms']}, max {r['max_ms']}) over {r['pushes']}")
    print(json.dumps({"ledger": args.ledger, "load": os.getloadavg()[0], **results}))


def summary(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Median, min and max of each timing, in milliseconds."""
    return {
        name: {
            "median_ms": round(statistics.median(values), 1),
            "min_ms": round(min(values), 1),
            "max_ms": round(max(values), 1),
            "pushes": len(values),
        }
        for name, values in times.items()
        if values
    }


def over_http(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """``--pushes`` invoices on the data end through ``POST /ledger`` of a service, each followed by that customer's ``/score``."""
    from bench_service import start_service

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        shutil.copytree(args.ledger, folder / "ledger", ignore=shutil.ignore_patterns("pushed_rows.sqlite"))
        served = argparse.Namespace(**{**vars(args), "ledger": str(folder / "ledger")})
        process, url, key, _ = start_service(served, folder)
        headers = {"Authorization": f"Bearer {key}"}
        times: dict[str, list[float]] = {"POST /ledger, one invoice": [], "next POST /score": []}
        try:
            end = date.fromisoformat(httpx.get(f"{url}/status", timeout=30).json()["ledger"]["data_end"])
            time.sleep(5)  # the answers worked out ahead after /readyz
            for i in range(args.pushes):
                invoice = {
                    "invoice_id": f"BENCH-HTTP-{i}",
                    "customer_id": args.customer,
                    "issue_date": end.isoformat(),
                    "due_date": (end + timedelta(days=30)).isoformat(),
                    "amount": 1000.0 + i,
                }
                started = time.perf_counter()
                httpx.post(
                    f"{url}/ledger", json={"invoices": [invoice]}, headers=headers, timeout=60
                ).raise_for_status()
                times["POST /ledger, one invoice"].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                answer = httpx.post(
                    f"{url}/score", json={"customer_id": args.customer}, headers=headers, timeout=60
                )
                times["next POST /score"].append((time.perf_counter() - started) * 1000)
                assert invoice["invoice_id"] in [o["invoice_id"] for o in answer.json()["open_invoices"]]
                time.sleep(1.5)  # the background work a push starts
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    return summary(times)


if __name__ == "__main__":
    main()
