"""Compare DuckDB, polars and pandas on the same point-in-time customer aggregates, and riskmodel's pipeline.

Each engine reads the ledger's Parquet files itself and computes, as of one date, per
customer onboarded on or before it: number of invoices, total invoiced, open balance,
open amount by aging bucket, amount-weighted mean and max days beyond terms of invoices
settled in the last 365 days, the share of those paid more than 30 days late, and days
since the last payment (DESIGN.md point-in-time rule: invoices issued on or before
``as_of``; an invoice settled or written off after it is open; later payments ignored).

Every run is a fresh subprocess that imports only its engine, so its peak RSS is its own.
The script then checks that the three implementations agree with each other and with
``riskmodel.features.customer.customer_features(..., active_only=False)`` on the
features they share, prints a Markdown table and writes it to
``benchmarks/results/engines.md``. It exits 1 when any value disagrees.

Usage::

    .venv/bin/python benchmarks/bench_engines.py                   # 200,000 customers
    .venv/bin/python benchmarks/bench_engines.py --customers 2000 --results /tmp/engines.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench_features import LEDGER_PERIOD

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
DEFAULT_RESULTS = ROOT / "benchmarks" / "results" / "engines.md"
DEFAULT_CUSTOMERS = 200_000
DEFAULT_AS_OF = date(2025, 6, 30)

WINDOW_DAYS = 365  # settled "in the last 365 days": as_of - settled_date < 365
LATE_DAYS = 30  # "paid 30+ days late": days beyond terms > 30 (riskmodel's share_paid_late_30_*)
# name, lowest and highest days past due (inclusive; None = unbounded)
AGING_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("current", None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("90_plus", 91, None),
)
BUCKET_COLUMNS = tuple(f"open_amount_{name}" for name, _, _ in AGING_BUCKETS)
MEAN_DBT, MAX_DBT = f"days_beyond_terms_mean_{WINDOW_DAYS}d", f"days_beyond_terms_max_{WINDOW_DAYS}d"
SHARE_LATE = f"share_paid_late_{LATE_DAYS}_{WINDOW_DAYS}d"
# The output schema every engine produces: n_invoices BIGINT, everything else DOUBLE (NaN where undefined).
OUTPUT_COLUMNS = (
    "customer_id",
    "n_invoices",
    "invoiced_amount",
    "open_balance",
    *BUCKET_COLUMNS,
    MEAN_DBT,
    MAX_DBT,
    SHARE_LATE,
    "days_since_last_payment",
)
# Our column -> the same quantity in riskmodel's customer features.
RISKMODEL_NAMES = {
    "n_invoices": "n_invoices_lifetime",
    **{
        c: c
        for c in ("open_balance", *BUCKET_COLUMNS, MEAN_DBT, MAX_DBT, SHARE_LATE, "days_since_last_payment")
    },
}
RTOL, ATOL = 1e-6, 1e-9  # relative tolerance; the absolute floor only absorbs 0 vs 1e-12 rounding residues

ENGINES = ("duckdb", "polars", "pandas")
PIPELINE = "riskmodel"
LABELS = {
    "duckdb": "DuckDB (SQL over Parquet)",
    "polars": "polars (lazy, scan_parquet)",
    "pandas": "pandas (read_parquet, groupby)",
}


def _paths(ledger: Path) -> dict[str, str]:
    return {name: str(ledger / f"{name}.parquet") for name in ("customers", "invoices", "payments")}


# --------------------------------------------------------------------------- DuckDB


def run_duckdb(ledger: Path, as_of: date):
    """The aggregates as one SQL query over the Parquet files; returns an Arrow table."""
    import duckdb

    def bucket(low: int | None, high: int | None) -> str:
        if low is None:
            return f"days_past_due <= {high}"
        if high is None:
            return f"days_past_due >= {low}"
        return f"days_past_due BETWEEN {low} AND {high}"

    buckets = ",\n               ".join(
        f"sum(open_amount) FILTER (WHERE {bucket(low, high)}) AS open_amount_{name}"
        for name, low, high in AGING_BUCKETS
    )
    carried = ", ".join(
        f"coalesce(a.{c}, 0) AS {c}" for c in ("invoiced_amount", "open_balance", *BUCKET_COLUMNS)
    )
    sql = f"""
    WITH paid AS (
        SELECT invoice_id, sum(amount) AS paid, max(payment_date) AS last_payment_date
        FROM payments WHERE payment_date <= $as_of
        GROUP BY invoice_id
    ),
    known AS (
        SELECT i.customer_id, i.amount,
               date_diff('day', i.due_date, $as_of) AS days_past_due,
               date_diff('day', i.due_date, i.settled_date) AS days_beyond_terms,
               coalesce(i.settled_date <= $as_of AND date_diff('day', i.settled_date, $as_of) < {WINDOW_DAYS}, false)
                   AS settled_in_window,
               CASE WHEN coalesce(i.settled_date <= $as_of, false) OR coalesce(i.written_off_date <= $as_of, false) THEN 0
                    ELSE greatest(i.amount - coalesce(p.paid, 0), 0) END AS open_amount,
               p.last_payment_date
        FROM invoices i LEFT JOIN paid p USING (invoice_id)
        WHERE i.issue_date <= $as_of
    ),
    aggregated AS (
        SELECT customer_id,
               count(*) AS n_invoices,
               sum(amount) AS invoiced_amount,
               sum(open_amount) AS open_balance,
               {buckets},
               sum(days_beyond_terms * amount) FILTER (WHERE settled_in_window)
                   / sum(amount) FILTER (WHERE settled_in_window) AS {MEAN_DBT},
               max(days_beyond_terms) FILTER (WHERE settled_in_window) AS {MAX_DBT},
               avg(CAST(days_beyond_terms > {LATE_DAYS} AS DOUBLE)) FILTER (WHERE settled_in_window) AS {SHARE_LATE},
               date_diff('day', max(last_payment_date), $as_of) AS days_since_last_payment
        FROM known GROUP BY customer_id
    )
    SELECT c.customer_id,
           CAST(coalesce(a.n_invoices, 0) AS BIGINT) AS n_invoices,
           {carried},
           CAST(a.{MEAN_DBT} AS DOUBLE) AS {MEAN_DBT},
           CAST(a.{MAX_DBT} AS DOUBLE) AS {MAX_DBT},
           a.{SHARE_LATE},
           CAST(a.days_since_last_payment AS DOUBLE) AS days_since_last_payment
    FROM customers c LEFT JOIN aggregated a USING (customer_id)
    WHERE c.onboarding_date <= $as_of
    ORDER BY c.customer_id
    """
    con = duckdb.connect()
    try:
        for name, path in _paths(ledger).items():
            con.read_parquet(path).create_view(name)
        return con.sql(sql, params={"as_of": as_of}).to_arrow_table()
    finally:
        con.close()


# --------------------------------------------------------------------------- polars


def run_polars(ledger: Path, as_of: date):
    """The aggregates with polars' lazy API (one optimised plan); returns a polars DataFrame."""
    import polars as pl

    paths = _paths(ledger)
    day = pl.lit(as_of, dtype=pl.Date)

    def days(start: pl.Expr, end: pl.Expr) -> pl.Expr:
        return (end - start).dt.total_days()

    def bucket(low: int | None, high: int | None) -> pl.Expr:
        dpd = pl.col("days_past_due")
        if low is None:
            return dpd <= high
        if high is None:
            return dpd >= low
        return dpd.is_between(low, high)

    paid = (
        pl.scan_parquet(paths["payments"])
        .filter(pl.col("payment_date") <= day)
        .group_by("invoice_id")
        .agg(paid=pl.col("amount").sum(), last_payment_date=pl.col("payment_date").max())
    )
    settled = (pl.col("settled_date") <= day).fill_null(False)
    written_off = (pl.col("written_off_date") <= day).fill_null(False)
    known = (
        pl.scan_parquet(paths["invoices"])
        .filter(pl.col("issue_date") <= day)
        .join(paid, on="invoice_id", how="left")
        .select(
            "customer_id",
            "amount",
            "last_payment_date",
            days_past_due=days(pl.col("due_date"), day),
            days_beyond_terms=days(pl.col("due_date"), pl.col("settled_date")),
            settled_in_window=settled & (days(pl.col("settled_date"), day) < WINDOW_DAYS),
            open_amount=pl.when(settled | written_off)
            .then(0.0)
            .otherwise((pl.col("amount") - pl.col("paid").fill_null(0.0)).clip(lower_bound=0.0)),
        )
    )
    window = pl.col("settled_in_window")
    dbt = pl.col("days_beyond_terms")
    aggregated = known.group_by("customer_id").agg(
        n_invoices=pl.len(),
        invoiced_amount=pl.col("amount").sum(),
        open_balance=pl.col("open_amount").sum(),
        **{
            f"open_amount_{name}": pl.col("open_amount").filter(bucket(low, high)).sum()
            for name, low, high in AGING_BUCKETS
        },
        weighted_dbt=(dbt * pl.col("amount")).filter(window).sum(),
        amount_in_window=pl.col("amount").filter(window).sum(),
        n_in_window=window.sum(),
        n_late=(window & (dbt > LATE_DAYS)).sum(),
        **{MAX_DBT: dbt.filter(window).max()},
        last_payment_date=pl.col("last_payment_date").max(),
    )
    in_window = pl.col("n_in_window").fill_null(0) > 0
    return (
        pl.scan_parquet(paths["customers"])
        .filter(pl.col("onboarding_date") <= day)
        .select("customer_id")
        .join(aggregated, on="customer_id", how="left")
        .select(
            "customer_id",
            pl.col("n_invoices").fill_null(0).cast(pl.Int64),
            *(
                pl.col(c).fill_null(0.0).cast(pl.Float64)
                for c in ("invoiced_amount", "open_balance", *BUCKET_COLUMNS)
            ),
            pl.when(in_window)
            .then(pl.col("weighted_dbt") / pl.col("amount_in_window"))
            .cast(pl.Float64)
            .alias(MEAN_DBT),
            pl.col(MAX_DBT).cast(pl.Float64),
            pl.when(in_window)
            .then(pl.col("n_late") / pl.col("n_in_window"))
            .cast(pl.Float64)
            .alias(SHARE_LATE),
            days(pl.col("last_payment_date"), day).cast(pl.Float64).alias("days_since_last_payment"),
        )
        .sort("customer_id")
        .collect()
    )


# --------------------------------------------------------------------------- pandas


def run_pandas(ledger: Path, as_of: date):
    """The aggregates with pandas (vectorised columns, one groupby); returns a pandas DataFrame."""
    import numpy as np
    import pandas as pd

    paths = _paths(ledger)
    day = pd.Timestamp(as_of)

    def read(table: str, columns: list[str], date_column: str) -> pd.DataFrame:
        # Dates as datetime64, not as Python date objects (pandas' slow default for Parquet dates).
        return pd.read_parquet(
            paths[table],
            columns=columns,
            filters=[(date_column, "<=", as_of)],
            to_pandas_kwargs={"date_as_object": False},
        )

    payments = read("payments", ["invoice_id", "payment_date", "amount"], "payment_date")
    paid = payments.groupby("invoice_id", sort=False).agg(
        paid=("amount", "sum"), last_payment_date=("payment_date", "max")
    )
    del payments
    invoices = read(
        "invoices",
        ["invoice_id", "customer_id", "issue_date", "due_date", "amount", "settled_date", "written_off_date"],
        "issue_date",
    ).join(paid, on="invoice_id")
    del paid

    amount = invoices["amount"]
    days_past_due = (day - invoices["due_date"]).dt.days
    days_beyond_terms = (invoices["settled_date"] - invoices["due_date"]).dt.days
    settled = invoices["settled_date"].le(day)
    in_window = settled & (day - invoices["settled_date"]).dt.days.lt(WINDOW_DAYS)
    is_open = ~settled & ~invoices["written_off_date"].le(day)
    open_amount = (amount - invoices["paid"].fillna(0.0)).clip(lower=0.0).where(is_open, 0.0)
    columns = {
        "customer_id": invoices["customer_id"],
        "amount": amount,
        "open_amount": open_amount,
        "weighted_dbt": (days_beyond_terms * amount).where(in_window, 0.0),
        "amount_in_window": amount.where(in_window, 0.0),
        "dbt_in_window": days_beyond_terms.where(in_window),
        "n_in_window": in_window.astype("int64"),
        "n_late": (in_window & days_beyond_terms.gt(LATE_DAYS)).astype("int64"),
        "last_payment_date": invoices["last_payment_date"],
    }
    for name, low, high in AGING_BUCKETS:
        lower = days_past_due.ge(low) if low is not None else True
        upper = days_past_due.le(high) if high is not None else True
        columns[f"open_amount_{name}"] = open_amount.where(lower & upper, 0.0)
    per_invoice = pd.DataFrame(columns)
    del invoices, columns

    aggregated = per_invoice.groupby("customer_id", sort=False).agg(
        n_invoices=("amount", "size"),
        invoiced_amount=("amount", "sum"),
        open_balance=("open_amount", "sum"),
        **{c: (c, "sum") for c in BUCKET_COLUMNS},
        weighted_dbt=("weighted_dbt", "sum"),
        amount_in_window=("amount_in_window", "sum"),
        n_in_window=("n_in_window", "sum"),
        n_late=("n_late", "sum"),
        **{MAX_DBT: ("dbt_in_window", "max")},
        last_payment_date=("last_payment_date", "max"),
    )
    del per_invoice

    customers = read("customers", ["customer_id", "onboarding_date"], "onboarding_date")[["customer_id"]]
    frame = customers.join(aggregated, on="customer_id")
    zero = ["n_invoices", "invoiced_amount", "open_balance", *BUCKET_COLUMNS, "n_in_window"]
    frame[zero] = frame[zero].fillna(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        in_window_any = frame["n_in_window"].gt(0)
        frame[MEAN_DBT] = (frame["weighted_dbt"] / frame["amount_in_window"]).where(in_window_any)
        frame[SHARE_LATE] = (frame["n_late"] / frame["n_in_window"]).where(in_window_any)
    frame["days_since_last_payment"] = (day - frame["last_payment_date"]).dt.days
    frame = frame[list(OUTPUT_COLUMNS)].astype(
        dict.fromkeys(OUTPUT_COLUMNS[2:], "float64") | {"n_invoices": "int64"}
    )
    return frame.sort_values("customer_id", ignore_index=True)


RUNNERS = {"duckdb": run_duckdb, "polars": run_polars, "pandas": run_pandas}


# --------------------------------------------------------------------------- workers (one per subprocess)


def _peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _save(frame, path: str) -> None:
    """Write an engine's result (Arrow table, polars or pandas DataFrame) to Parquet for the checks."""
    if hasattr(frame, "write_parquet"):
        frame.write_parquet(path)
    elif hasattr(frame, "to_parquet"):
        frame.to_parquet(path, index=False)
    else:
        import pyarrow.parquet as pq

        pq.write_table(frame, path)


def _engine_worker(engine: str, ledger: Path, as_of: date, out: str | None) -> dict:
    runner = RUNNERS[engine]
    if engine == "duckdb":  # module imports, so that the timing below holds only the work
        import duckdb  # noqa: F401
        import pyarrow  # noqa: F401
    elif engine == "polars":
        import polars  # noqa: F401
    else:
        import pandas  # noqa: F401
    rss_imports = _peak_rss_mib()
    began = time.perf_counter()
    frame = runner(ledger, as_of)
    seconds = time.perf_counter() - began
    peak = _peak_rss_mib()
    if out:
        _save(frame, out)
    return {
        "seconds": {"total": seconds},
        "peak_rss_mib": {"total": peak},
        "rss_after_imports_mib": rss_imports,
    }


def _pipeline_worker(ledger: Path, as_of: date, out: str | None) -> dict:
    from riskmodel.features.customer import customer_features
    from riskmodel.ledger.load import load_ledger

    rss_imports = _peak_rss_mib()
    began = time.perf_counter()
    loaded = load_ledger(ledger)
    loaded_at = time.perf_counter()
    rss_load = _peak_rss_mib()
    features = customer_features(loaded, as_of, active_only=False)
    done = time.perf_counter()
    peak = _peak_rss_mib()
    if out:
        features[["customer_id", *RISKMODEL_NAMES.values()]].to_parquet(out, index=False)
    return {
        "seconds": {"load": loaded_at - began, "features": done - loaded_at, "total": done - began},
        "peak_rss_mib": {"load": rss_load, "features": peak, "total": peak},
        "rss_after_imports_mib": rss_imports,
        "n_features": len(features.columns) - 2,  # less customer_id, as_of
        "rejected_rows": loaded.report.n_rejected,
    }


def worker(engine: str, ledger: Path, as_of: date, out: str | None) -> int:
    """Run one engine once in this process and print its measurements as one JSON line."""
    if engine == PIPELINE:
        result = _pipeline_worker(ledger, as_of, out)
    else:
        result = _engine_worker(engine, ledger, as_of, out)
    print(json.dumps(result))
    return 0


def run_in_subprocess(engine: str, ledger: Path, as_of: date, out: Path | None) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        engine,
        "--ledger",
        str(ledger),
        "--as-of",
        as_of.isoformat(),
    ]
    if out is not None:
        command += ["--worker-out", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(
            f"{engine} worker failed (exit {completed.returncode}):\n{completed.stderr.strip()}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- agreement checks


def _mismatches(
    name: str, left, right, columns: dict[str, str], left_name: str, right_name: str
) -> list[str]:
    """Differences between two result frames indexed by customer_id (``columns`` maps left -> right names)."""
    import numpy as np

    problems = []
    for only, here, there in (
        (left.index.difference(right.index), left_name, right_name),
        (right.index.difference(left.index), right_name, left_name),
    ):
        if len(only):
            problems.append(
                f"{name}: {len(only)} customers in {here} but not in {there} (e.g. {', '.join(only[:3])})"
            )
    common = left.index.intersection(right.index)
    for ours, theirs in columns.items():
        a = left.loc[common, ours].to_numpy(dtype="float64")
        b = right.loc[common, theirs].to_numpy(dtype="float64")
        both_nan = np.isnan(a) & np.isnan(b)
        bad = ~(both_nan | np.isclose(a, b, rtol=RTOL, atol=ATOL))
        if bad.any():
            rows = np.flatnonzero(bad)[:5]
            examples = ", ".join(f"{common[i]}: {float(a[i])!r} vs {float(b[i])!r}" for i in rows)
            problems.append(
                f"{name}: {ours}{'' if ours == theirs else f' / {theirs}'}: {bad.sum()} of {len(a)} differ ({examples})"
            )
    return problems


def check_agreement(outputs: dict[str, Path]) -> list[str]:
    """Compare every engine with DuckDB on all columns, and DuckDB with riskmodel on the shared features."""
    import pandas as pd

    frames = {
        engine: pd.read_parquet(path).set_index("customer_id").sort_index()
        for engine, path in outputs.items()
    }
    problems = []
    for engine in ENGINES:
        found = ["customer_id", *frames[engine].columns]
        if found != list(OUTPUT_COLUMNS):
            problems.append(f"{engine}: columns {found} instead of {list(OUTPUT_COLUMNS)}")
        elif str(frames[engine]["n_invoices"].dtype) != "int64" or any(
            frames[engine][c].dtype != "float64" for c in OUTPUT_COLUMNS[2:]
        ):
            problems.append(
                f"{engine}: output types differ from n_invoices int64, the rest float64: {dict(frames[engine].dtypes)}"
            )
    if problems:
        return problems
    every_column = {c: c for c in OUTPUT_COLUMNS[1:]}
    for engine in ENGINES[1:]:
        problems += _mismatches(
            f"{engine} vs duckdb", frames[engine], frames["duckdb"], every_column, engine, "duckdb"
        )
    problems += _mismatches(
        "duckdb vs riskmodel", frames["duckdb"], frames[PIPELINE], RISKMODEL_NAMES, "duckdb", "riskmodel"
    )
    return problems


# --------------------------------------------------------------------------- data, machine, report


def ensure_ledger(folder: Path, customers: int) -> None:
    if (folder / "invoices.parquet").is_file():
        return
    riskmodel = Path(sys.executable).with_name("riskmodel")
    command = [
        str(riskmodel),
        "-q",
        "sample",
        "--out",
        str(folder),
        "--customers",
        str(customers),
        "--seed",
        "0",
        *LEDGER_PERIOD,
        "--format",
        "parquet",
    ]
    print(f"generating {folder} ({customers:,} customers): {' '.join(command)}", flush=True)
    subprocess.run(command, check=True)


def ledger_summary(folder: Path) -> dict[str, tuple[int, float]]:
    """Rows and Parquet MiB of each table."""
    import pyarrow.parquet as pq

    summary = {}
    for name in ("customers", "invoices", "payments", "events"):
        path = folder / f"{name}.parquet"
        if path.is_file():
            summary[name] = (pq.ParquetFile(path).metadata.num_rows, path.stat().st_size / 2**20)
    return summary


def machine() -> str:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    ram_gib = int(meminfo[1]) / 2**20 if len(meminfo) > 1 else float("nan")
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} CPUs ({cpu}), {ram_gib:.1f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("duckdb", "polars", "pandas", "pyarrow")}


def _median(runs: list[dict], key: str, phase: str = "total") -> float:
    return statistics.median(r[key][phase] for r in runs)


def results_table(runs: dict[str, list[dict]], versions_: dict[str, str]) -> str:
    lines = [
        "| engine | wall s (median) | wall s (each run) | peak RSS MiB (median) | RSS after imports MiB |",
        "|---|---:|---|---:|---:|",
    ]

    def row(label: str, engine_runs: list[dict], phase: str = "total") -> str:
        each = " / ".join(f"{r['seconds'][phase]:.2f}" for r in engine_runs)
        base = statistics.median(r["rss_after_imports_mib"] for r in engine_runs)
        return f"| {label} | {_median(engine_runs, 'seconds', phase):.2f} | {each} | {_median(engine_runs, 'peak_rss_mib', phase):,.0f} | {base:,.0f} |"

    for engine in ENGINES:
        lines.append(row(f"{LABELS[engine]} {versions_[engine]}", runs[engine]))
    n_features = runs[PIPELINE][0]["n_features"]
    lines.append(row(f"riskmodel: load_ledger + customer_features ({n_features} features)", runs[PIPELINE]))
    lines.append(
        row("&nbsp;&nbsp;of which load_ledger (read, validate, derive settlement)", runs[PIPELINE], "load")
    )
    lines.append(
        row(
            f"&nbsp;&nbsp;of which customer_features ({n_features} features, DuckDB over Arrow)",
            runs[PIPELINE],
            "features",
        )
    )
    return "\n".join(lines)


def why_duckdb(runs: dict[str, list[dict]]) -> str:
    """The decision, with this run's numbers in it."""
    seconds = {e: _median(runs[e], "seconds") for e in ENGINES}
    memory = {e: _median(runs[e], "peak_rss_mib") for e in ENGINES}
    fastest = min(seconds, key=seconds.get)
    leanest = min(memory, key=memory.get)
    d, p, pd_ = seconds["duckdb"], seconds["polars"], seconds["pandas"]
    if fastest == "duckdb":
        speed = f"DuckDB was the fastest ({d:.2f} s; polars {p:.2f} s, pandas {pd_:.2f} s = {pd_ / d:.1f}x DuckDB)."
    else:
        speed = (
            f"{fastest} was the fastest ({seconds[fastest]:.2f} s) against DuckDB's {d:.2f} s "
            f"(pandas {pd_:.2f} s = {pd_ / d:.1f}x DuckDB): speed alone does not decide between DuckDB and polars."
        )
    mem = f"Peak memory: DuckDB {memory['duckdb']:,.0f} MiB, polars {memory['polars']:,.0f} MiB, pandas {memory['pandas']:,.0f} MiB"
    mem += " (DuckDB the leanest)." if leanest == "duckdb" else f" ({leanest} the leanest)."
    return "\n".join(
        [
            "## Why riskmodel computes features with DuckDB",
            "",
            f"- **Speed and memory on this work.** {speed} {mem}",
            "- **One feature definition everywhere.** Every feature is a SQL expression in "
            "`riskmodel.features.definitions`, compiled into one query (`features/query.py`). DuckDB runs it "
            "embedded for training, batch rescoring and the online service; `sqlglot` translates the same SQL "
            "for Spark when a portfolio outgrows one machine (DESIGN.md). With pandas or polars the ~60 "
            "features would be code in one dataframe API and would need a second implementation for Spark — "
            "the train/serve (and batch/distributed) skew the design rules out.",
            "- **No copies, no conversions.** DuckDB queries the ledger's Arrow tables zero-copy, reads "
            "CSV/Parquet directly, and also does the ledger validation in `load_ledger`, so the project "
            "carries one query engine. Parquet dates stay dates (pandas turns them into Python objects "
            "unless told otherwise).",
            "- **pandas** computes on one core and materialises every intermediate column in full; polars is "
            "a good engine, but it would add a second expression language next to the SQL we need for Spark anyway.",
        ]
    )


def pipeline_note(runs: dict[str, list[dict]]) -> str:
    """Where riskmodel's own pipeline spends its time and memory."""
    pipeline = runs[PIPELINE]
    total, load, features = (_median(pipeline, "seconds", phase) for phase in ("total", "load", "features"))
    peak, duckdb_peak = _median(pipeline, "peak_rss_mib"), _median(runs["duckdb"], "peak_rss_mib")
    if _median(pipeline, "peak_rss_mib", "load") >= peak:
        where = (
            "reached in `load_ledger`, which holds the raw, checked and accepted copies of each table at once"
        )
    else:
        where = f"of which {_median(pipeline, 'peak_rss_mib', 'load'):,.0f} MiB by the end of `load_ledger`"
    return "\n".join(
        [
            "## riskmodel's own pipeline",
            "",
            f"`load_ledger` + `customer_features` took {total:.1f} s: {load:.1f} s ({load / total:.0%}) in `load_ledger` "
            "(read the Parquet files, validate every row with quarantine bookkeeping, derive settlement from "
            f"payments, attach customer_id to payments) and {features:.1f} s computing all "
            f"{pipeline[0]['n_features']} features for every customer. Peak RSS {peak:,.0f} MiB "
            f"({peak / duckdb_peak:.1f}x the DuckDB query above), {where}.",
        ]
    )


def report(
    args: argparse.Namespace, ledger: Path, runs: dict[str, list[dict]], problems: list[str], load: str
) -> str:
    versions_ = versions()
    sizes = ledger_summary(ledger)
    size_lines = [f"| {name} | {rows:,} | {mib:,.1f} |" for name, (rows, mib) in sizes.items()]
    agreement = (
        "all three engines agree (every column, relative tolerance 1e-6, NaN where undefined) and match "
        "riskmodel's `customer_features(..., active_only=False)` on "
        + ", ".join(f"`{c}`" for c in RISKMODEL_NAMES)
        + "."
        if not problems
        else "**DISAGREEMENT**:\n\n" + "\n".join(f"- {p}" for p in problems)
    )
    return "\n".join(
        [
            "# Data engines: DuckDB vs polars vs pandas on riskmodel's customer aggregates",
            "",
            f"Measured {date.today().isoformat()} by `benchmarks/bench_engines.py` "
            f"(`{' '.join(['python', 'benchmarks/bench_engines.py', *args.argv])}`).",
            "",
            f"- Machine: {machine()}",
            "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions_.items()),
            f"- Ledger: `{ledger.relative_to(ROOT) if ledger.is_relative_to(ROOT) else ledger}` (Parquet, generated by "
            f"`riskmodel sample --seed 0 {' '.join(LEDGER_PERIOD)}`), as of {args.as_of}",
            "",
            "| table | rows | Parquet MiB |",
            "|---|---:|---:|",
            *size_lines,
            "",
            "## Work",
            "",
            f"Per customer onboarded on or before {args.as_of}, point in time: number of invoices, total invoiced, "
            "open balance (amount less payments up to as_of, for invoices not settled or written off by then), open "
            "amount current / 1-30 / 31-60 / 61-90 / 90+ days past due, amount-weighted mean and max days beyond "
            f"terms of invoices settled in the last {WINDOW_DAYS} days, the share of those paid more than "
            f"{LATE_DAYS} days late, and days since the last payment. Each engine reads the Parquet files itself "
            "(payments reach their customer through a join to invoices on invoice_id) and materialises the "
            "result in memory (Arrow table, polars or pandas DataFrame).",
            "",
            f"Each run is a fresh subprocess importing only its engine; {args.repeats} run(s) per engine, interleaved. Wall "
            "time covers the work, not interpreter start-up or imports; peak RSS is `ru_maxrss` of the whole "
            "process (imports included). DuckDB and polars use all cores; pandas computes on one. "
            f"Load average (1 min) {load}: the machine is shared, so compare the runs' spread too.",
            "",
            "## Results",
            "",
            results_table(runs, versions_),
            "",
            f"Agreement: {agreement}",
            "",
            why_duckdb(runs),
            "",
            pipeline_note(runs),
            "",
        ]
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ledger",
        type=Path,
        help="Parquet ledger folder (default benchmarks/data/ledger_200k, or ledger_<N>)",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=DEFAULT_CUSTOMERS,
        help="customers to generate when the ledger is missing (default 200,000)",
    )
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF, help="feature date (default 2025-06-30)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per engine (default 3)")
    parser.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        help="Markdown file to write (default benchmarks/results/engines.md)",
    )
    parser.add_argument("--worker", choices=(*ENGINES, PIPELINE), help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.ledger is None:
        name = "ledger_200k" if args.customers == DEFAULT_CUSTOMERS else f"ledger_{args.customers}"
        args.ledger = DATA / name
    ledger = args.ledger.resolve()
    if args.worker:
        return worker(args.worker, ledger, args.as_of, args.worker_out)

    ensure_ledger(ledger, args.customers)
    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {engine: [] for engine in (*ENGINES, PIPELINE)}
    with tempfile.TemporaryDirectory(prefix="bench_engines_") as tmp:
        outputs = {engine: Path(tmp) / f"{engine}.parquet" for engine in runs}
        for repeat in range(args.repeats):
            for engine in runs:
                result = run_in_subprocess(
                    engine, ledger, args.as_of, outputs[engine] if repeat == 0 else None
                )
                runs[engine].append(result)
                phases = ", ".join(f"{k} {v:.2f} s" for k, v in result["seconds"].items())
                print(
                    f"run {repeat + 1}/{args.repeats} {engine:<9} {phases}, peak RSS {result['peak_rss_mib']['total']:,.0f} MiB",
                    flush=True,
                )
        problems = check_agreement(outputs)

    text = report(
        args,
        ledger,
        runs,
        problems,
        load=f"{load_before:.2f} before the runs, {os.getloadavg()[0]:.2f} after",
    )
    print()
    print(results_table(runs, versions()))
    print()
    if problems:
        print("DISAGREEMENT between engines / riskmodel:")
        for problem in problems:
            print(f"  - {problem}")
    else:
        print(
            f"OK: duckdb, polars and pandas agree on all {len(OUTPUT_COLUMNS) - 1} columns and match riskmodel on {len(RISKMODEL_NAMES)} features"
        )
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text)
    print(f"wrote {args.results}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
