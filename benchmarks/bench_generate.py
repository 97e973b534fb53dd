"""Time the synthetic ledger generator: rows per table, seconds and peak memory.

Usage::

    .venv/bin/python benchmarks/bench_generate.py                  # 200,000 customers
    .venv/bin/python benchmarks/bench_generate.py --customers 1000 --rates
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

from riskmodel.sample import SAMPLE_MONTHS, SAMPLE_START, make_sample_tables, measure_sample_rates

START = SAMPLE_START
MONTHS = SAMPLE_MONTHS


def _peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customers", type=int, default=200_000, help="customers to generate (default 200,000)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rates", action="store_true", help="also measure the headline rates (slower)")
    args = parser.parse_args(argv)

    rss_before = _peak_rss_mib()
    began = time.perf_counter()
    tables = make_sample_tables(args.customers, seed=args.seed, start=START, months=MONTHS)
    seconds = time.perf_counter() - began

    print(f"customers={args.customers:,} seed={args.seed} months={MONTHS}")
    for name, frame in tables.items():
        print(f"  {name:<16} {len(frame):>12,} rows")
    print(f"  total            {sum(len(f) for f in tables.values()):>12,} rows")
    print(f"seconds      {seconds:.2f}")
    print(f"peak RSS     {_peak_rss_mib():,.0f} MiB (at import: {rss_before:,.0f} MiB)")
    if args.rates:
        rates = measure_sample_rates(tables, START, MONTHS)
        print(json.dumps({k: round(v, 4) for k, v in rates.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
