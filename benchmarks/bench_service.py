"""Latency of the scoring service: cold start, then p50/p99 of ``POST /score`` for one customer on a warm service.

Starts ``riskmodel serve`` on a free port (or measures a running service with ``--url``),
times how long it takes until ``/readyz`` answers and until the first score comes back,
then measures warm latency two ways:

* a sequential Python client (httpx, one connection, one request at a time): the latency
  one caller sees, for one customer again and again (its answer is kept after the first
  request), for a different customer each request (answers worked out ahead for the data
  end) and for a different customer each request 90 days before the data end (nothing
  worked out ahead: the on-demand path); the client adds roughly 0.3-1 ms a request of its own;
* ``wrk`` (if installed) with 1 and 4 connections on one customer, and with 8 connections
  through every customer in turn (the acceptance check's shape): p50/p99 and throughput,
  with a load generator that costs ~1-2% CPU instead of Python's 25-60% of a core.

    .venv/bin/python benchmarks/bench_service.py --tracking-uri sqlite:///$PWD/mlflow.db
    .venv/bin/python benchmarks/bench_service.py --url http://127.0.0.1:3000 --key "$RISKMODEL_KEY"

Prints a markdown table and, as the last line, the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
WRK_SCRIPT = """
ids = {{{ids}}}
i = 0
request = function()
  i = i + 1
  local body = '{{"customer_id": "' .. ids[(i % #ids) + 1] .. '"}}'
  return wrk.format("POST", "/score", {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {key}"}}, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(
    args: argparse.Namespace, folder: Path
) -> tuple[subprocess.Popen, str, str, dict[str, float]]:
    """Start ``riskmodel serve`` with a throwaway key and database; return it with cold-start timings."""
    key = secrets.token_urlsafe(24)
    (folder / "api_keys").write_text(key + "\n", encoding="utf-8")
    port = free_port()
    command = [
        sys.executable, "-m", "riskmodel.cli", "-q", "serve", "--port", str(port), "--ledger", args.ledger,
        "--db", str(folder / "riskmodel.db"), "--key-file", str(folder / "api_keys"),
    ]  # fmt: skip
    if args.tracking_uri:
        command += ["--tracking-uri", args.tracking_uri]
    if args.workers:
        command += ["--workers", str(args.workers)]
    url = f"http://127.0.0.1:{port}"
    log = (folder / "service.log").open("w", encoding="utf-8")
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    while True:
        if process.poll() is not None:
            sys.exit(f"the service stopped; see {folder / 'service.log'}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    ready = time.perf_counter() - started
    response = httpx.post(
        f"{url}/score", json={"customer_id": args.customer}, headers=_auth(key), timeout=120
    )
    response.raise_for_status()
    return process, url, key, {"ready_s": ready, "first_score_s": time.perf_counter() - started}


def scorable_customers(ledger: str, as_of: str | None = None) -> list[str]:
    """Customers of a ledger folder onboarded by ``as_of`` (default its data end), in id order (empty for a database URL)."""
    folder = Path(ledger)
    if not folder.is_dir():
        return []
    from riskmodel.ledger import load_ledger

    served = load_ledger(folder)
    customers = served.customers.to_pandas()
    known = customers[pd.to_datetime(customers["onboarding_date"]) <= pd.Timestamp(as_of or served.data_end)]
    return sorted(known["customer_id"].astype(str))


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def sequential(
    url: str, key: str, customers: list[str], n: int, as_of: str | None = None
) -> dict[str, float]:
    """One request at a time over one kept-alive connection, through ``customers`` in turn (``as_of`` if given)."""
    times = []
    extra = {"as_of": as_of} if as_of else {}
    with httpx.Client(base_url=url, headers=_auth(key), timeout=120) as client:
        for _ in range(3):
            client.post("/score", json={"customer_id": customers[0]}).raise_for_status()
        for i in range(n):
            start = time.perf_counter()
            body = {"customer_id": customers[i % len(customers)], **extra}
            client.post("/score", json=body).raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    return {
        "p50_ms": statistics.median(times),
        "p99_ms": percentile(times, 99),
        "mean_ms": statistics.fmean(times),
        "requests": n,
    }


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def with_wrk(
    url: str, key: str, customers: list[str], connections: int, seconds: int
) -> dict[str, float] | None:
    """wrk's latency distribution and throughput, the requests going through ``customers`` in turn (None without wrk)."""
    if shutil.which("wrk") is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.format(ids=", ".join(json.dumps(c) for c in customers), key=key))
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "60s",
        "-s",
        script.name,
        f"{url}/score",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, flags=re.MULTILINE))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "connections": connections,
        "customers": len(customers),
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": requests,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="measure this running service instead of starting one")
    parser.add_argument("--key", default=os.environ.get("RISKMODEL_KEY", ""), help="API key for --url")
    parser.add_argument("--tracking-uri", help="MLflow store with the champions (default: riskmodel serve's)")
    parser.add_argument("--ledger", default=str(REPO / "data" / "sample"))
    parser.add_argument("--customer", default="C000004")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests (default 200)")
    parser.add_argument("--seconds", type=int, default=20, help="seconds per wrk run (default 20)")
    parser.add_argument("--workers", type=int, help="server worker processes (default: the service's 1)")
    args = parser.parse_args()

    process, cold = None, {}
    with tempfile.TemporaryDirectory() as folder:
        if args.url:
            url, key = args.url, args.key
        else:
            process, url, key, cold = start_service(args, Path(folder))
        try:
            results = {"cold_start": cold, "sequential": sequential(url, key, [args.customer], args.requests)}
            others = [c for c in scorable_customers(args.ledger) if c != args.customer][: args.requests]
            if len(others) >= args.requests:
                results["sequential_new_customers"] = sequential(url, key, others, args.requests)
                end = date.fromisoformat(httpx.get(f"{url}/status").json()["ledger"]["data_end"])
                past = (end - timedelta(days=90)).isoformat()
                earlier = [c for c in scorable_customers(args.ledger, past) if c != args.customer]
                results["sequential_past_as_of"] = sequential(url, key, earlier, args.requests, past) | {
                    "as_of": past
                }
            runs = [([args.customer], 1), ([args.customer], 4)]
            if others:  # as the acceptance check does: 8 clients through the portfolio's customers
                runs.append((scorable_customers(args.ledger), 8))
            results["wrk"] = [w for ids, c in runs if (w := with_wrk(url, key, ids, c, args.seconds))]
        finally:
            if process is not None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
    load = os.getloadavg()
    print("| measure | p50 ms | p99 ms | req/s |\n|---|---:|---:|---:|")
    seq = results["sequential"]
    print(f"| sequential client, {seq['requests']} requests | {seq['p50_ms']:.1f} | {seq['p99_ms']:.1f} | |")
    if new := results.get("sequential_new_customers"):
        print(
            f"| sequential client, a new customer each request ({new['requests']}) | {new['p50_ms']:.1f} | {new['p99_ms']:.1f} | |"
        )
    if past := results.get("sequential_past_as_of"):
        print(
            f"| sequential client, a new customer each request at {past['as_of']} ({past['requests']}) | {past['p50_ms']:.1f} | {past['p99_ms']:.1f} | |"
        )
    for w in results["wrk"]:
        print(
            f"| wrk, {w['connections']} connection(s), {w['customers']} customer(s) | {w['p50_ms']:.1f} | {w['p99_ms']:.1f} | {w['requests_per_s']:.1f} |"
        )
    if cold:
        print(
            f"\ncold start: ready after {cold['ready_s']:.1f} s, first score after {cold['first_score_s']:.1f} s"
        )
    print(f"load average during the run: {load[0]:.2f} (1 min) on {os.cpu_count()} cores")
    print(json.dumps(results | {"load_average_1min": load[0]}))


if __name__ == "__main__":
    main()
