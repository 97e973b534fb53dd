"""The ``riskmodel`` command line: one parser for every entry point (DESIGN.md, "CLI")."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from riskmodel import __version__
from riskmodel.exceptions import RiskModelError

logger = logging.getLogger("riskmodel")

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE = 0, 1, 2
MODEL_NAMES = ("late_payment", "default", "onboarding")  # DESIGN.md names; riskmodel.models checks them again
TRACKING_HELP = "MLflow tracking URI (default $MLFLOW_TRACKING_URI, else sqlite:///./mlflow.db)"


def _sample(args: argparse.Namespace) -> int:
    from riskmodel.ledger.sample import make_sample_tables
    from riskmodel.ledger.write import write_tables

    logger.info("generating %d customers (seed %d)", args.customers, args.seed)
    tables = make_sample_tables(n_customers=args.customers, seed=args.seed)
    paths = write_tables(tables, args.out, fmt=args.format)
    for path in paths:
        logger.info("wrote %s", path)
    counts = ", ".join(f"{len(frame):,} {name}" for name, frame in tables.items())
    sys.stdout.write(f"sample ledger written to {args.out}: {counts}\n")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from riskmodel.ledger.load import load_ledger
    from riskmodel.ledger.report import format_summary, write_quarantine

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
    from riskmodel.features.invoice import invoice_features
    from riskmodel.io import check_output_path, write_frame

    check_output_path(args.out)
    ledger = _load(args)
    logger.info("computing %s features as of %s", args.level, args.as_of)
    if args.level == "customer":
        frame = customer_features(ledger, args.as_of)
    else:
        frame = invoice_features(ledger, args.as_of)
    write_frame(frame, args.out)
    sys.stdout.write(f"{len(frame):,} {args.level} rows x {frame.shape[1]} columns written to {args.out}\n")
    return EXIT_OK


def _tracking_uri(args: argparse.Namespace) -> str:
    """``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else ``mlflow.db`` in the current folder."""
    from riskmodel.models import default_tracking_uri

    return args.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri(Path.cwd())


def _train(args: argparse.Namespace) -> int:
    from riskmodel.models import TrainConfig, load_train_config, train_models
    from riskmodel.models.errors import tracking_errors
    from riskmodel.policy import load_policy

    config = load_train_config(args.config) if args.config else TrainConfig()
    policy = load_policy(args.policy)
    ledger = _load(args)
    tracking_uri = _tracking_uri(args)
    logger.info("training %s; MLflow tracking at %s", ", ".join(args.models), tracking_uri)
    with tracking_errors(tracking_uri):
        results = train_models(
            ledger,
            tracking_uri,
            models=args.models,
            as_of=args.as_of,
            config=config,
            grade_of=policy.grade,
            policy_file=Path(policy.source_path) if policy.source_path else None,
        )
    for result in results:
        if result.status == "trained":
            role = "champion" if result.promoted else "challenger"
            sys.stdout.write(f"{result.name}: {result.kind}, version {result.version} ({role})\n")
        else:
            sys.stdout.write(f"{result.name}: skipped: {result.message}\n")
    trained = {r.name: r.oot_metrics for r in results if r.status == "trained"}
    sys.stdout.write(json.dumps(trained) + "\n")
    return EXIT_OK if trained else EXIT_REJECTED


def _score_invoices(args: argparse.Namespace) -> int:
    from riskmodel.io import check_output_path, write_frame
    from riskmodel.models import load_champion, score_invoices
    from riskmodel.models.errors import tracking_errors

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
        "--out", required=True, type=Path, help="folder to write customers/invoices/payments/events to"
    )
    sample.add_argument(
        "--customers", type=_positive_int, default=1000, help="number of customers (default 1000)"
    )
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.add_argument(
        "--format", choices=("csv", "parquet"), default="csv", help="file format (default csv)"
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
    return parser


def _add_model_commands(commands: argparse._SubParsersAction) -> None:
    """The ``train`` and ``score-invoices`` subcommands."""
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
    train.set_defaults(handler=_train)

    score = commands.add_parser(
        "score-invoices", help="score every invoice as of its issue date with the champion late-payment model"
    )
    score.add_argument("ledger", help="ledger folder (CSV or Parquet files) or SQLAlchemy URL")
    score.add_argument("--out", required=True, type=Path, help="output file, .csv or .parquet")
    score.add_argument("--tracking-uri", help=TRACKING_HELP)
    score.add_argument("--strict", action="store_true", help="stop when any ledger row is rejected")
    score.set_defaults(handler=_score_invoices)


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
