"""The ``riskmodel`` command line: one parser for every entry point (DESIGN.md, "CLI")."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from riskmodel import __version__
from riskmodel.exceptions import ReportError, RiskModelError

logger = logging.getLogger("riskmodel")

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE = 0, 1, 2
MODEL_NAMES = ("late_payment", "default", "onboarding")  # DESIGN.md names; riskmodel.models checks them again
TRACKING_HELP = "MLflow tracking URI (default $MLFLOW_TRACKING_URI, else sqlite:///./mlflow.db)"


def _sample(args: argparse.Namespace) -> int:
    from riskmodel.ledger.write import write_tables
    from riskmodel.progress import spinner
    from riskmodel.sample import make_sample_tables

    period = {
        name: value for name, value in (("start", args.start), ("months", args.months)) if value is not None
    }
    logger.info("generating %d customers (seed %d)", args.customers, args.seed)
    with spinner(f"generating {args.customers:,} customers"):  # the generator reports no steps
        tables = make_sample_tables(
            n_customers=args.customers, seed=args.seed, history=args.history, **period
        )
    paths = write_tables(tables, args.out, fmt=args.format)
    for path in paths:
        logger.info("wrote %s", path)
    counts = ", ".join(f"{len(frame):,} {name}" for name, frame in tables.items())
    sys.stdout.write(f"sample ledger written to {args.out}: {counts}\n")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from riskmodel.ledger.load import load_ledger
    from riskmodel.ledger.quarantine import format_summary, write_quarantine

    ledger = load_ledger(args.ledger)
    written = write_quarantine(ledger.report, args.quarantine)
    sys.stdout.write(format_summary(ledger, written) + "\n")
    if ledger.report.is_clean:
        return EXIT_OK
    return EXIT_UNUSABLE if args.strict else EXIT_REJECTED


def _load(args: argparse.Namespace):
    """Load the ledger named on the command line and report rejected rows (``--strict`` makes them fatal)."""
    from riskmodel.ledger.load import load_ledger

    ledger = load_ledger(args.ledger, strict=args.strict)
    for table in ledger.report.tables:
        logger.info(
            "%s: %s rows read, %s accepted, %s rejected",
            table.file,
            f"{table.read:,}",
            f"{table.accepted:,}",
            f"{table.rejected:,}",
        )
    if not ledger.report.is_clean:
        first = ledger.report.rejected_rows().iloc[0]
        logger.warning(
            "%d row(s) rejected and left out (first: %s row %s: %s); run 'riskmodel validate %s' for the full list",
            ledger.report.n_rejected,
            first["file"],
            first["row"],
            first["reason"],
            args.ledger,
        )
    return ledger


def _features(args: argparse.Namespace) -> int:
    from riskmodel.features.customer import customer_features
    from riskmodel.features.invoice import write_invoice_features
    from riskmodel.io import check_output_path, write_frame

    check_output_path(args.out)
    ledger = _load(args)
    logger.info("computing %s features as of %s", args.level, args.as_of)
    if args.level == "customer":
        frame = customer_features(ledger, args.as_of)
        write_frame(frame, args.out)
        rows = f"{len(frame):,} customer rows x {frame.shape[1]} columns"
    else:  # one row per invoice: written chunk by chunk, never held whole
        args.out.parent.mkdir(parents=True, exist_ok=True)
        rows = f"{write_invoice_features(ledger, args.out, args.as_of):,} invoice rows"
    sys.stdout.write(f"{rows} written to {args.out}\n")
    return EXIT_OK


def _tracking_uri(args: argparse.Namespace) -> str:
    """``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else ``mlflow.db`` in the current folder."""
    from riskmodel.models import default_tracking_uri

    return args.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri(Path.cwd())


def _train(args: argparse.Namespace) -> int:
    from riskmodel.models import TrainConfig, load_train_config, train_models
    from riskmodel.models.tracking import tracking_errors
    from riskmodel.policy import load_policy
    from riskmodel.progress import terminal_progress

    config = load_train_config(args.config) if args.config else TrainConfig()
    policy = load_policy(args.policy)
    ledger = _load(args)
    tracking_uri = _tracking_uri(args)
    logger.info("training %s; MLflow tracking at %s", ", ".join(args.models), tracking_uri)
    display = terminal_progress()
    with tracking_errors(tracking_uri), display or contextlib.nullcontext():
        results = train_models(
            ledger,
            tracking_uri,
            models=args.models,
            as_of=args.as_of,
            config=config,
            policy=policy,
            progress=display,
            exclude_undated=args.exclude_undated,
        )
    for result in results:
        if result.status == "trained":
            role = "champion" if result.promoted else "challenger"
            sys.stdout.write(f"{result.name}: {result.kind}, version {result.version} ({role})\n")
        else:
            sys.stdout.write(f"{result.name}: skipped: {result.message}\n")
    trained = {r.name: r.oot_metrics for r in results if r.status == "trained"}
    skipped = {r.name: {"skipped": r.message} for r in results if r.status != "trained"}
    sys.stdout.write(json.dumps(trained | skipped) + "\n")
    return EXIT_OK if trained else EXIT_REJECTED


def _score_invoices(args: argparse.Namespace) -> int:
    from riskmodel.io import check_output_path, write_frame
    from riskmodel.models import load_champion
    from riskmodel.models.tracking import tracking_errors
    from riskmodel.scoring import score_invoices

    check_output_path(args.out)
    ledger = _load(args)
    tracking_uri = _tracking_uri(args)
    with tracking_errors(tracking_uri):
        model, version = load_champion("riskmodel-late-payment", tracking_uri)
    logger.info("scoring invoices with riskmodel-late-payment version %s", version)
    frame = score_invoices(ledger, model)
    write_frame(frame, args.out)
    sys.stdout.write(
        f"{len(frame):,} invoices scored with riskmodel-late-payment version {version}; written to {args.out}\n"
    )
    return EXIT_OK


def _forecast(args: argparse.Namespace) -> int:
    from riskmodel.forecast import cash_forecast, check_forecast_request
    from riskmodel.io import check_output_path, write_frame
    from riskmodel.models import load_champion
    from riskmodel.models.tracking import tracking_errors
    from riskmodel.progress import spinner

    check_output_path(args.out)
    tracking_uri = _tracking_uri(args)
    with tracking_errors(tracking_uri):
        model, version = load_champion("riskmodel-late-payment", tracking_uri)
    ledger = _load(args)
    customers = [args.customer] if args.customer else None
    check_forecast_request(ledger, args.as_of, customers, args.weeks)
    who = f"customer {args.customer}" if args.customer else "the portfolio"
    logger.info(
        "forecasting %d weeks of cash-in of %s as of %s (late-payment version %s)",
        args.weeks,
        who,
        args.as_of,
        version,
    )
    with spinner(f"forecasting the cash-in of {who}"):
        forecast = cash_forecast(model, ledger, args.as_of, args.weeks, customers)
    write_frame(forecast.weeks, args.out)
    summary = forecast.to_dict()
    del summary["weeks"]
    sys.stdout.write(
        f"{forecast.n_invoices:,} open invoices of {who} owe {forecast.open_amount:,.0f} at {args.as_of}; "
        f"expected in {args.weeks} weeks {summary['expected_in_weeks']:,.0f}, still open after "
        f"{forecast.remaining:,.0f}; written to {args.out}\n"
    )
    sys.stdout.write(
        json.dumps({**summary, "customer_id": args.customer, "model_version": f"late_payment:{version}"})
        + "\n"
    )
    return EXIT_OK


def _model_names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(MODEL_NAMES))
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"choose from {','.join(MODEL_NAMES)}; got {text!r}")
    return names


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a date like 2025-06-30; got {text!r}") from err


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="riskmodel", description="Credit-risk scoring for trade credit.")
    parser.add_argument("--version", action="version", version=f"riskmodel {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sample = commands.add_parser("sample", help="write a synthetic ledger")
    sample.add_argument(
        "--out",
        required=True,
        type=Path,
        help="folder to write customers/invoices/payments/events/customer_history to",
    )
    sample.add_argument(
        "--customers", type=_positive_int, default=1000, help="number of customers (default 1000)"
    )
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.add_argument("--start", type=_date, help="first simulated day, YYYY-MM-DD (default 2021-01-01)")
    sample.add_argument(
        "--months",
        type=_positive_int,
        help="months simulated; the data end is start + months, exclusive (default 60)",
    )
    sample.add_argument(
        "--format", choices=("csv", "parquet"), default="csv", help="file format (default csv)"
    )
    sample.add_argument(
        "--history",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write customer_history, the limit reviews and bureau reports over time (default);"
        " --no-history leaves it out",
    )
    sample.set_defaults(handler=_sample)

    validate = commands.add_parser("validate", help="check a ledger and write rejected rows to quarantine")
    validate.add_argument("ledger", help="ledger folder (CSV or Parquet files) or SQLAlchemy URL")
    validate.add_argument(
        "--quarantine",
        type=Path,
        default=Path("quarantine"),
        help="folder for rejected rows (default ./quarantine)",
    )
    validate.add_argument(
        "--strict", action="store_true", help="treat any rejected row as unusable input (exit 2)"
    )
    validate.set_defaults(handler=_validate)

    features = commands.add_parser("features", help="write the point-in-time feature table")
    features.add_argument("ledger", help="ledger folder (CSV or Parquet files) or SQLAlchemy URL")
    features.add_argument(
        "--as-of", required=True, type=_date, help="features known at the end of this day (YYYY-MM-DD)"
    )
    features.add_argument("--out", required=True, type=Path, help="output file, .csv or .parquet")
    features.add_argument(
        "--level",
        choices=("customer", "invoice"),
        default="customer",
        help="customer: one row per customer active at --as-of; invoice: one row per invoice issued by then, as of its issue date",
    )
    features.add_argument("--strict", action="store_true", help="stop when any ledger row is rejected")
    features.set_defaults(handler=_features)
    _add_model_commands(commands)
    _add_rescore_command(commands)
    _add_serve_command(commands)
    _add_push_command(commands)
    _add_report_command(commands)
    _add_backtest_command(commands)
    return parser


def _add_model_commands(commands: argparse._SubParsersAction) -> None:
    """The ``train``, ``score-invoices`` and ``forecast`` subcommands."""
    train = commands.add_parser("train", help="train, validate and register the models in MLflow")
    train.add_argument("ledger", help="ledger folder (CSV or Parquet files) or SQLAlchemy URL")
    train.add_argument(
        "--as-of",
        type=_date,
        help="train on what was known at the end of this day (default: the ledger's end)",
    )
    train.add_argument(
        "--models",
        type=_model_names,
        default=list(MODEL_NAMES),
        help=f"comma-separated models to train (default {','.join(MODEL_NAMES)})",
    )
    train.add_argument("--tracking-uri", help=TRACKING_HELP)
    train.add_argument(
        "--config", type=Path, help="training parameters (YAML), e.g. training/configs/train.yaml"
    )
    train.add_argument(
        "--policy",
        type=Path,
        help="credit policy (YAML) whose master scale grades the validation; default: the shipped policy",
    )
    train.add_argument("--strict", action="store_true", help="stop when any ledger row is rejected")
    train.add_argument(
        "--exclude-undated",
        action="store_true",
        help="without a customer_history table, leave out the features that read today's credit limit, "
        "terms, revenue, employees, capital and bureau score (they look ahead at past dates)",
    )
    train.set_defaults(handler=_train)

    score = commands.add_parser(
        "score-invoices", help="score every invoice as of its issue date with the champion late-payment model"
    )
    score.add_argument("ledger", help="ledger folder (CSV or Parquet files) or SQLAlchemy URL")
    score.add_argument("--out", required=True, type=Path, help="output file, .csv or .parquet")
    score.add_argument("--tracking-uri", help=TRACKING_HELP)
    score.add_argument("--strict", action="store_true", help="stop when any ledger row is rejected")
    score.set_defaults(handler=_score_invoices)

    forecast = commands.add_parser(
        "forecast",
        help="expected cash-in by week of the open invoices (champion late-payment model), with an 80%% band",
    )
    forecast.add_argument("ledger", help="ledger folder (CSV or Parquet files) or SQLAlchemy URL")
    forecast.add_argument(
        "--as-of",
        required=True,
        type=_date,
        help="forecast the invoices open at the end of this day (YYYY-MM-DD)",
    )
    forecast.add_argument(
        "--weeks",
        type=_positive_int,
        default=13,
        help="weeks forecast, the first starting the day after --as-of (default 13)",
    )
    forecast.add_argument("--customer", help="one customer's invoices (default: the whole portfolio)")
    forecast.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output file, .csv or .parquet: week, week_start, week_end, expected, low, high",
    )
    forecast.add_argument("--tracking-uri", help=TRACKING_HELP)
    forecast.add_argument("--strict", action="store_true", help="stop when any ledger row is rejected")
    forecast.set_defaults(handler=_forecast)


def _serve(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from riskmodel.service.launch import (
        absolute_settings,
        champions,
        check_ready,
        ensure_key,
        installed_project,
        run_service,
        serving_root,
        usage,
    )
    from riskmodel.service.settings import ServiceSettings

    configured = ServiceSettings.from_env(os.environ)
    settings = replace(
        configured,
        ledger=args.ledger or configured.ledger,
        tracking_uri=_tracking_uri(args),
        db_url=args.db or configured.db_url,
        key_file=args.key_file or configured.key_file,
        auth=configured.auth and not args.no_auth,
    )
    settings = absolute_settings(settings, Path.cwd())
    if args.project_dir is not None:
        root = serving_root(args.project_dir.resolve())
    else:
        root = serving_root(Path.cwd(), installed_project())
    if args.train_if_missing and not any(champions(settings.tracking_uri).values()):
        logger.info(
            "no riskmodel model has a champion in %s: training on %s first",
            settings.tracking_uri,
            settings.ledger,
        )
        code = main(["train", settings.ledger, "--tracking-uri", settings.tracking_uri])
        if code != EXIT_OK:
            return code
    if args.create_key and ensure_key(settings):
        sys.stdout.write(f"created an API key in {settings.key_file} (readable by you only)\n")
    check_ready(settings)
    sys.stdout.write(usage(settings, args.host, args.port) + "\n")
    sys.stdout.flush()
    return run_service(
        settings, args.host, args.port, os.environ, root, workers=args.workers, access_log=args.access_log
    )


def _push(args: argparse.Namespace) -> int:
    from riskmodel.push import push_folder
    from riskmodel.service.keys import read_key_file
    from riskmodel.service.settings import DEFAULT_KEY_FILE, ENV_KEY_FILE

    key = args.key or os.environ.get("RISKMODEL_API_KEY")
    if key is None:
        keys = read_key_file(Path(args.key_file or os.environ.get(ENV_KEY_FILE) or DEFAULT_KEY_FILE))
        key = keys[0] if keys else None
    summary = push_folder(args.source, args.url, key, args.batch_rows)
    totals = {name: sum(getattr(summary, name).values()) for name in ("added", "updated", "unchanged")}
    sys.stdout.write(
        f"pushed {args.source} to {args.url} in {summary.batches} batch(es): {totals['added']:,} row(s) added, "
        f"{totals['updated']:,} updated, {totals['unchanged']:,} already held; data end {summary.data_end}\n"
    )
    sys.stdout.write(json.dumps({"batches": summary.batches, **totals, "data_end": summary.data_end}) + "\n")
    return EXIT_OK


def _add_push_command(commands: argparse._SubParsersAction) -> None:
    """The ``push`` subcommand (send new ledger rows to a running service)."""
    push = commands.add_parser(
        "push", help="send new or changed ledger rows (a folder or one table file) to a running service"
    )
    push.add_argument(
        "source",
        type=Path,
        help="folder holding any of the ledger tables (.csv or .parquet), or one table file",
    )
    push.add_argument("--url", required=True, help="the service, e.g. http://127.0.0.1:3000")
    push.add_argument(
        "--key",
        help="API key (default $RISKMODEL_API_KEY, else the first key of --key-file)",
    )
    push.add_argument(
        "--key-file",
        help="API key file, one key a line (default $RISKMODEL_API_KEY_FILE, else .riskmodel/api_keys)",
    )
    push.add_argument(
        "--batch-rows",
        type=_positive_int,
        default=1000,
        help="rows per request (default 1000; each request is accepted or refused whole)",
    )
    push.set_defaults(handler=_push)


def _add_serve_command(commands: argparse._SubParsersAction) -> None:
    """The ``serve`` subcommand (BentoML service with the champion models)."""
    serve = commands.add_parser("serve", help="start the scoring service (BentoML) with the champion models")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_positive_int, default=3000, help="port (default 3000)")
    serve.add_argument(
        "--ledger",
        help="ledger folder or SQLAlchemy URL to score from (default $RISKMODEL_LEDGER, else data/sample)",
    )
    serve.add_argument("--tracking-uri", help=TRACKING_HELP)
    serve.add_argument(
        "--db",
        help="results database for alert memory and the audit trail (default $RISKMODEL_DB_URL, else riskmodel.db)",
    )
    serve.add_argument(
        "--key-file",
        type=Path,
        help="API key file, one key a line (default $RISKMODEL_API_KEY_FILE, else .riskmodel/api_keys)",
    )
    serve.add_argument(
        "--create-key", action="store_true", help="create the key file with a new key when no key is set"
    )
    serve.add_argument(
        "--train-if-missing",
        action="store_true",
        help="train on the ledger first when no model has a champion",
    )
    serve.add_argument(
        "--no-auth", action="store_true", help="accept calls without an API key (local experiments only)"
    )
    serve.add_argument("--workers", type=_positive_int, help="worker processes (default 2, one per core)")
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (method, path, status, time); off by default: it costs about a fifth "
        "of /score's throughput, and every decision is in the audit table anyway",
    )
    serve.add_argument(
        "--project-dir",
        type=Path,
        help="folder holding serving/service.py and the console (default: the current folder, "
        "else the folder riskmodel was installed from with 'pip install -e')",
    )
    serve.set_defaults(handler=_serve)


def _report(args: argparse.Namespace) -> int:
    from riskmodel.validation.report import VALIDATION_NOTEBOOK, build_report

    notebook = args.notebooks / VALIDATION_NOTEBOOK
    if not notebook.is_file():
        raise ReportError(
            f"--notebooks {args.notebooks}: no {VALIDATION_NOTEBOOK} in {args.notebooks.resolve()}; run from the "
            "riskmodel checkout or pass --notebooks DIR, the folder that holds the validation notebook"
        )
    tracking_uri = _tracking_uri(args)
    logger.info("running the validation notebook %s against %s and %s", notebook, tracking_uri, args.ledger)
    result = build_report(tracking_uri, args.ledger, args.out, notebook)
    sys.stdout.write(
        f"validation report written to {result.path} ({result.figures} figures, {result.seconds:.0f} s); "
        f"logged to MLflow run {result.run_id}\n"
    )
    return EXIT_OK


def _add_report_command(commands: argparse._SubParsersAction) -> None:
    """The ``report`` subcommand (the validation notebook, run headless, as one HTML file)."""
    report = commands.add_parser(
        "report", help="validate the champion models out of time and write an HTML report (logged to MLflow)"
    )
    report.add_argument("--tracking-uri", help=TRACKING_HELP)
    report.add_argument(
        "--ledger", default="data/sample", help="the ledger the models were trained on (default data/sample)"
    )
    report.add_argument(
        "--out",
        type=Path,
        default=Path("reports/validation.html"),
        help="HTML file to write (default reports/validation.html)",
    )
    report.add_argument(
        "--notebooks",
        type=Path,
        default=Path("notebooks"),
        help="folder holding the validation notebook (default notebooks, in the current folder)",
    )
    report.set_defaults(handler=_report)


def _rescore(args: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from riskmodel.io import check_output_path
    from riskmodel.ledger.load import load_ledger  # noqa: F401  (imported here, not in the loading thread)

    if args.out:
        check_output_path(args.out)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger") as pool:
        loading = pool.submit(_load, args)  # DuckDB validates the ledger while MLflow and the models load
        from riskmodel.models.tracking import tracking_errors
        from riskmodel.progress import CountProgress, terminal_progress
        from riskmodel.rescore import DEFAULT_CHUNK_SIZE, LocalEngine, format_summary, rescore
        from riskmodel.scoring import ModelBundle
        from riskmodel.store import ResultsStore

        tracking_uri = _tracking_uri(args)
        with tracking_errors(tracking_uri):
            bundle = ModelBundle.from_registry(tracking_uri)
        logger.info("champion models %s from %s", bundle.model_version, tracking_uri)
        ledger = loading.result()
    store = ResultsStore(args.db or os.environ.get("RISKMODEL_DB_URL"))
    if args.engine == "spark":
        from riskmodel.rescore.spark import SparkEngine

        remote = None if args.spark_master else os.environ.get("SPARK_REMOTE")
        engine = SparkEngine(master=args.spark_master, remote=remote, conf=dict(args.spark_conf))
    else:
        engine = LocalEngine()
    progress = CountProgress(terminal_progress())
    try:
        report = rescore(
            ledger,
            bundle,
            args.as_of,
            store,
            out=args.out,
            engine=engine,
            chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
            lang=args.lang,
            progress=progress,
            invoice_scores=not args.no_invoice_scores,
        )
    finally:
        engine.close()
        store.close()
    sys.stdout.write(format_summary(report.summary) + "\n")
    for path in report.written:
        sys.stdout.write(f"wrote {path}\n")
    sys.stdout.write(json.dumps(report.summary.to_dict()) + "\n")
    return EXIT_OK


def _add_rescore_command(commands: argparse._SubParsersAction) -> None:
    """The ``rescore`` subcommand (batch rescoring of the portfolio, embedded or on Spark)."""
    rescore = commands.add_parser(
        "rescore",
        help="score every active customer as of a date; store scores and alerts, export, summarise",
    )
    rescore.add_argument("ledger", help="ledger folder (CSV or Parquet files) or SQLAlchemy URL")
    rescore.add_argument(
        "--as-of", required=True, type=_date, help="score as of the end of this day (YYYY-MM-DD)"
    )
    rescore.add_argument(
        "--out",
        type=Path,
        help="export file, .csv or .parquet (open-invoice scores and rejected customers go beside it)",
    )
    rescore.add_argument(
        "--db",
        help="results database: SQLAlchemy URL or SQLite file (default $RISKMODEL_DB_URL, else riskmodel.db)",
    )
    rescore.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help="local: DuckDB and the models in this process (default); spark: features and models on Spark",
    )
    rescore.add_argument("--tracking-uri", help=TRACKING_HELP)
    rescore.add_argument(
        "--chunk-size",
        type=_positive_int,
        help="customers committed per transaction (default 5,000; a resumed run keeps its chunks)",
    )
    rescore.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of reasons, rationale and alerts"
    )
    rescore.add_argument(
        "--spark-master",
        help="Spark master URL, e.g. spark://host:7077 or yarn (default $SPARK_REMOTE for Spark Connect, else local[*])",
    )
    rescore.add_argument(
        "--spark-conf",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Spark setting, repeatable, e.g. --spark-conf spark.driver.memory=6g",
    )
    rescore.add_argument(
        "--no-invoice-scores",
        action="store_true",
        help="leave out the late-payment scores of open invoices (the slowest step on large ledgers)",
    )
    rescore.add_argument("--strict", action="store_true", help="stop when any ledger row is rejected")
    rescore.set_defaults(handler=_rescore)


def _backtest(args: argparse.Namespace) -> int:
    from riskmodel.backtest import backtest_config, run_backtest
    from riskmodel.backtest.report import comparison, write_backtest
    from riskmodel.models import load_train_config
    from riskmodel.policy import load_policy

    policy = load_policy(args.policy)
    config = load_train_config(args.config) if args.config else backtest_config()
    challenger = args.challenger_policy or args.challenger_config
    if challenger:  # read both before the long work starts: a bad file fails at once
        challenger_policy = load_policy(args.challenger_policy) if args.challenger_policy else policy
        challenger_config = load_train_config(args.challenger_config) if args.challenger_config else config
    ledger = _load(args)
    logger.info("backtest from %s to %s with policy %s", args.start, args.end, policy.version)
    result = run_backtest(ledger, args.start, args.end, policy=policy, config=config, workdir=args.workdir)
    summary = result.summary
    _print_backtest(summary)
    if args.out:
        for path in write_backtest(result, args.out):
            sys.stdout.write(f"wrote {path}\n")
    if challenger:
        logger.info(
            "challenger: policy %s, training config %s",
            challenger_policy.version,
            args.challenger_config or "as the current one's",
        )
        other = run_backtest(ledger, args.start, args.end, policy=challenger_policy, config=challenger_config)
        table = comparison(summary, other.summary)
        sys.stdout.write("current against challenger:\n" + table.to_string(index=False) + "\n")
        if args.out:
            for path in write_backtest(other, Path(args.out) / "challenger"):
                sys.stdout.write(f"wrote {path}\n")
            table.to_csv(Path(args.out) / "comparison.csv", index=False)
            sys.stdout.write(f"wrote {Path(args.out) / 'comparison.csv'}\n")
        summary = {**summary, "challenger": other.summary}
    sys.stdout.write(json.dumps(summary) + "\n")
    return EXIT_OK


def _print_backtest(summary: dict[str, Any]) -> None:
    """The backtest's headline figures in sentences (the JSON line follows)."""
    sys.stdout.write(
        f"{summary['months']} month(s) after the warm-up, {summary['active_customers_mean']:,.0f} active customers a month\n"
        f"defaults warned 30+ days ahead: {summary['defaults_warned_30d']} of {summary['defaults']}\n"
        f"new severe alerts: precision {summary['alert_precision']} against a base rate of {summary['base_rate']} "
        f"(lift {summary['lift']})\n"
        f"customers with a new alert a month: {summary['new_alert_rate']}; open alerts per customer "
        f"{summary['open_alerts_per_customer']}\n"
        f"limits raised / cut / unchanged: {summary['limits_raised_share']} / {summary['limits_cut_share']} / "
        f"{summary['limits_unchanged_share']}; customers who stayed good keep {summary['good_limit_ratio']} of "
        f"their current total; exposure at default {summary['ead_recommended_limits']:,.0f} under recommended "
        f"against {summary['ead_current_limits']:,.0f} under current limits ({summary['ead_committed']:,.0f} of it "
        f"shipped before the first decision)\n"
    )


def _add_backtest_command(commands: argparse._SubParsersAction) -> None:
    """The ``backtest`` subcommand (decisions measured against what happened)."""
    backtest = commands.add_parser(
        "backtest",
        help="train on what was known at --start, rescore each month end to --end, judge alerts and limits by outcomes",
    )
    backtest.add_argument("ledger", help="ledger folder (CSV or Parquet files) or SQLAlchemy URL")
    backtest.add_argument("--start", required=True, type=_date, help="training date and warm-up scoring date")
    backtest.add_argument(
        "--end", required=True, type=_date, help="last scoring date (the ledger must reach 6 months past it)"
    )
    backtest.add_argument(
        "--out", type=Path, help="folder for summary.json, the monthly tables and the figures"
    )
    backtest.add_argument(
        "--policy", help="policy YAML to judge (default: the policy shipped with riskmodel)"
    )
    backtest.add_argument(
        "--config",
        help="training config YAML of the model set to judge (default: the train defaults with validation_share 0.1, cv_folds 2)",
    )
    backtest.add_argument(
        "--workdir",
        type=Path,
        help="keep the backtest's own MLflow store and results database here (default: a temporary folder)",
    )
    backtest.add_argument(
        "--challenger-policy",
        help="also judge this policy YAML on the same dates and print both side by side",
    )
    backtest.add_argument(
        "--challenger-config",
        help="also judge a model set trained with this config YAML on the same dates, side by side",
    )
    backtest.add_argument("--strict", action="store_true", help="stop when any ledger row is rejected")
    backtest.set_defaults(handler=_backtest)


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, e.g. spark.driver.memory=6g; got {text!r}")
    return key.strip(), value.strip()


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number; got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``riskmodel`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.handler(args)
    except RiskModelError as err:
        sys.stderr.write(f"riskmodel {args.command}: error: {err}\n")
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
