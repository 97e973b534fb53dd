"""Month-end rescoring speed and memory: whole `riskmodel rescore` processes on a generated ledger.

.venv/bin/python benchmarks/bench_rescore.py                          # 200,000 customers, local and Spark
.venv/bin/python benchmarks/bench_rescore.py --customers 5000 --engines local

Each configuration runs as a fresh `riskmodel rescore` process into an empty results
database: ledger load and validation, features, PD with SHAP reasons, policy, alerts,
database write, export (and, unless left out, the late-payment scores of every open
invoice). Wall time is the whole process; peak memory is the largest resident set of the
process tree, sampled from /proc every 0.2 s (the JVM and Python workers included for
Spark). Stage times come from the command's own log lines. Writes
benchmarks/results/rescore.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench_features import ensure_ledger

ROOT = Path(__file__).resolve().parents[1]
RISKMODEL = ROOT / ".venv" / "bin" / "riskmodel"
MODELS = ROOT / "benchmarks" / "data" / "mlflow.db"
RESULTS = ROOT / "benchmarks" / "results" / "rescore.md"
ENV = {"BENTOML_DO_NOT_TRACK": "True", "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
STAGES = (  # (stage, texts of the log lines that end it: the latest of them); absent stages are skipped
    ("start-up, ledger load and validation, models (overlapping)", ("riskmodel: events", "champion models")),
    ("customer features", ("riskmodel.rescore.run: features of",)),
    ("default dates, open invoices", ("riskmodel.progress: scoring",)),
    ("score, reasons, policy, alerts, commit (open-invoice scores alongside)", ("customers (100.0%)",)),
    ("summary read back, rest of the open-invoice scores", ("open invoices scored",)),
    ("export files", ("export written",)),
)
SPARK_ARGS = {
    "spark": ["--spark-conf", "spark.driver.memory=8g"]
}  # the ledger's views live in the driver JVM
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


@dataclass
class Measurement:
    label: str
    wall_s: float
    peak_gib: float
    load_before: float
    load_after: float
    stages: dict[str, float] = field(default_factory=dict)
    summary: str = ""


def ensure_models() -> str:
    """Champions trained on data/sample (once, not timed), in benchmarks/data/mlflow.db."""
    uri = f"sqlite:///{MODELS}"
    if not MODELS.exists():
        print("training champions on data/sample (once) ...", flush=True)
        subprocess.run(
            [str(RISKMODEL), "-q", "train", str(ROOT / "data" / "sample"), "--tracking-uri", uri,
             "--config", str(ROOT / "training" / "configs" / "train.yaml")],
            check=True, env={**os.environ, **ENV}, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return uri


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue
        children.setdefault(int(stat[1]), []).append(int(entry.name))
        rss[int(entry.name)] = int(statm[1]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


def run(label: str, args: list[str]) -> Measurement:
    """One `riskmodel rescore` process: wall time, sampled peak memory of its tree, stage times."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench_rescore_") as folder:
        command = [
            str(RISKMODEL),
            "rescore",
            *args,
            "--db",
            f"{folder}/results.db",
            "--out",
            f"{folder}/scores.parquet",
        ]
        peak = [0]
        launched, start = datetime.now(), time.perf_counter()
        process = subprocess.Popen(
            command, env={**os.environ, **ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                peak[0] = max(peak[0], tree_rss_bytes(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout, stderr = process.communicate()
        wall, ended = time.perf_counter() - start, datetime.now()
        done.set()
        sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{label} failed ({process.returncode}):\n{stderr[-3000:]}")
    stages = stage_times(stderr, launched, ended)
    summary = "\n".join(line for line in stdout.splitlines() if not line.startswith("{"))
    return Measurement(label, wall, peak[0] / 2**30, load_before, os.getloadavg()[0], stages, summary)


def stage_times(log: str, launched: datetime, ended: datetime) -> dict[str, float]:
    """Seconds of each stage: from the end of the previous one to the log line that ends it."""
    stamped = []
    for line in log.splitlines():
        match = LOG_TIME.match(line)
        if match:
            stamped.append((line, datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")))
    out, previous = {}, launched
    for stage, markers in STAGES:
        found = [min((at for line, at in stamped if marker in line), default=None) for marker in markers]
        ends = [at for at in found if at is not None]
        if ends and max(ends) >= previous:
            out[stage] = (max(ends) - previous).total_seconds()
            previous = max(ends)
    out["exit"] = (ended - previous).total_seconds()
    return out


def markdown(results: list[Measurement], ledger: Path, as_of: str, sizes: str) -> str:
    lines = [
        "# Month-end rescoring: speed and memory",
        "",
        f"Measured {datetime.now():%Y-%m-%d %H:%M} by `benchmarks/bench_rescore.py`.",
        "",
        f"- Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}",
        f"- Ledger: `{ledger.relative_to(ROOT)}` ({sizes}), as of {as_of}; models trained on data/sample",
        "- Each run is a fresh `riskmodel rescore` process writing to an empty SQLite results database and a "
        "Parquet export. Peak memory is the whole process tree (for Spark: driver, JVM and Python workers).",
        "- The machine is shared: the 1-minute load average before and after each run is given; "
        "timings on a busy machine are longer than on a quiet one.",
        "",
        "| run | wall s | peak GiB | load before / after |",
        "|---|---:|---:|---|",
    ]
    lines += [
        f"| {r.label} | {r.wall_s:.1f} | {r.peak_gib:.2f} | {r.load_before:.2f} / {r.load_after:.2f} |"
        for r in results
    ]
    lines += ["", "## Stages (from the command's log lines)", ""]
    stage_names = [name for name, _ in STAGES if any(name in r.stages for r in results)] + ["exit"]
    lines += ["| stage | " + " | ".join(r.label for r in results) + " |", "|---|" + "---:|" * len(results)]
    for name in stage_names:
        cells = [f"{r.stages[name]:.1f}" if name in r.stages else "" for r in results]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Summary printed by the first run", "", "```", results[0].summary, "```", ""]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--as-of", default="2025-12-31")
    parser.add_argument("--engines", default="local,spark", help="comma-separated: local, spark")
    parser.add_argument(
        "--invoice-scores", choices=("both", "on", "off"), default="both",
        help="runs with and/or without the open-invoice late-payment scores (default both)",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration (default 1)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ledger = ensure_ledger(args.customers)
    uri = ensure_models()
    sizes = ", ".join(
        f"{p.stem} {p.stat().st_size / 2**20:.0f} MiB" for p in sorted(ledger.glob("*.parquet"))
    )
    base = [str(ledger), "--as-of", args.as_of, "--tracking-uri", uri]
    variants = {"both": [False, True], "off": [False], "on": [True]}[args.invoice_scores]
    results = []
    for engine in args.engines.split(","):
        for with_invoices, repeat in itertools.product(variants, range(1, args.repeat + 1)):
            label = f"{engine}, {'with' if with_invoices else 'without'} open-invoice scores"
            label += f" #{repeat}" if args.repeat > 1 else ""
            extra = ["--engine", engine, *SPARK_ARGS.get(engine, [])]
            extra += [] if with_invoices else ["--no-invoice-scores"]
            print(f"{label} ...", flush=True)
            result = run(label, base + extra)
            print(f"  {result.wall_s:.1f} s, {result.peak_gib:.2f} GiB, load {result.load_before:.2f} -> "
                  f"{result.load_after:.2f}; {', '.join(f'{k} {v:.1f}' for k, v in result.stages.items())}",
                  flush=True)  # fmt: skip
            results.append(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(results, ledger, args.as_of, sizes), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
