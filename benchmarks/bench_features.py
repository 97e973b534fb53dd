"""Feature speed on a generated ledger: whole `riskmodel features` process, snapshot, invoice table, online.

.venv/bin/python benchmarks/bench_features.py                  # 200,000 customers (generated once, Parquet)
.venv/bin/python benchmarks/bench_features.py --customers 5000 # smaller
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RISKMODEL = ROOT / ".venv" / "bin" / "riskmodel"
# The benchmark ledger keeps the workload its figures were measured on: 36 months from 2023 (9.24M
# invoices for 200,000 customers), no customer_history. `riskmodel sample` alone writes five years.
LEDGER_PERIOD = ["--start", "2023-01-01", "--months", "36", "--no-history"]


def ensure_ledger(customers: int) -> Path:
    folder = ROOT / "benchmarks" / "data" / f"ledger_{customers}"
    if not (folder / "invoices.parquet").exists():
        print(f"generating {customers:,} customers into {folder} ...", flush=True)
        subprocess.run(
            [
                str(RISKMODEL),
                "-q",
                "sample",
                "--out",
                str(folder),
                "--customers",
                str(customers),
                *LEDGER_PERIOD,
                "--format",
                "parquet",
            ],
            check=True,
        )
    return folder


def time_cli(folder: Path, as_of: str, level: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (GiB) of one `riskmodel features` process."""
    out = ROOT / "benchmarks" / "data" / f"features_{level}.parquet"
    start = time.perf_counter()
    subprocess.run(
        [
            str(RISKMODEL),
            "-q",
            "features",
            str(folder),
            "--as-of",
            as_of,
            "--level",
            level,
            "--out",
            str(out),
        ],
        check=True,
    )
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    return wall, peak


def time_in_process(folder: Path, as_of: dt.date, n_online: int) -> None:
    from riskmodel.features.customer import customer_features
    from riskmodel.features.online import OnlineFeatureStore
    from riskmodel.ledger import load_ledger

    start = time.perf_counter()
    ledger = load_ledger(folder)
    print(f"load and validate: {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    frame = customer_features(ledger, as_of)
    print(f"customer snapshot ({len(frame):,} active customers): {time.perf_counter() - start:.1f} s")
    store = OnlineFeatureStore(ledger)
    ids = frame["customer_id"].tolist()[:: max(1, len(frame) // n_online)][:n_online]
    latencies = []
    for customer_id in ids:
        start = time.perf_counter()
        store.compute(customer_id, as_of)
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    print(
        f"online on demand: median {statistics.median(latencies):.1f} ms, p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms over {len(ids)} customers"
    )
    start = time.perf_counter()
    store.warm(as_of)
    print(f"online warm-up of the date: {time.perf_counter() - start:.1f} s")
    latencies = []
    for customer_id in ids:
        start = time.perf_counter()
        store.features(customer_id, as_of)
        latencies.append((time.perf_counter() - start) * 1000)
    print(f"online warmed lookup: median {statistics.median(latencies):.3f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--as-of", default="2025-06-30")
    parser.add_argument("--online", type=int, default=200, help="customers to time one by one")
    parser.add_argument("--skip-invoice", action="store_true", help="skip the invoice-level table")
    args = parser.parse_args()
    folder = ensure_ledger(args.customers)
    wall, peak = time_cli(folder, args.as_of, "customer")
    print(f"riskmodel features --level customer (whole process): {wall:.1f} s, peak {peak:.2f} GiB")
    if not args.skip_invoice:
        wall, peak = time_cli(folder, args.as_of, "invoice")
        print(f"riskmodel features --level invoice (whole process): {wall:.1f} s, peak {peak:.2f} GiB")
    time_in_process(folder, dt.date.fromisoformat(args.as_of), args.online)
    return 0


if __name__ == "__main__":
    sys.exit(main())
