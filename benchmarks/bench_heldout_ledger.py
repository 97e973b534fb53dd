"""The late-payment model on a ledger's later part, trained on its earlier part, against the customers' past late rate.

For each cut date: ``riskmodel train LEDGER --as-of CUT --models late_payment`` (a fresh
MLflow store), then ``riskmodel score-invoices`` scores every invoice at its issue date, and
the invoices issued after the cut whose outcome is known at the ledger's end are judged:
AUC of P(days beyond terms > k) per threshold, next to the AUC of each customer's own
share of earlier invoices beyond ``k`` as known at issue (the validation report's
``past_late_rate``). Thresholds with fewer than ``--min-positives`` late invoices after the
cut are skipped. This is how a small real ledger (tens of customers, a few thousand
invoices, no payments table) is judged: the model has to beat that rate.

    .venv/bin/python benchmarks/bench_heldout_ledger.py LEDGER --cuts 2013-03-31,2013-06-30,2013-09-30
    .venv/bin/python benchmarks/bench_heldout_ledger.py --ar-csv WA_Fn-UseC_-Accounts-Receivable.csv

``--ar-csv`` reads an accounts-receivable export with the columns of IBM's public
accounts-receivable sample (``customerID, invoiceNumber, InvoiceDate, DueDate,
InvoiceAmount, Disputed, SettledDate, countryCode``) into a ledger folder first: its
``Disputed`` flag has no date, so it is left out (a dispute known at issue would be a
look-ahead). Without ``--cuts`` the cuts are the issue dates at 55, 70 and 85 % of the
invoices. Prints a markdown table; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.ledger import load_ledger
from riskmodel.models.fit_timing import past_late_rate
from riskmodel.models.metrics import auc
from riskmodel.models.specs import LATE_PAYMENT
from riskmodel.training_tables import late_payment_training_table

HORIZON_MONTHS = 12
CUT_SHARES = (0.55, 0.70, 0.85)


AR_COLUMNS = (
    "customerID",
    "invoiceNumber",
    "InvoiceDate",
    "DueDate",
    "InvoiceAmount",
    "SettledDate",
    "countryCode",
)


def ledger_from_ar_csv(path: Path, folder: Path) -> Path:
    """An accounts-receivable export (IBM sample columns) as a ledger folder: customers and invoices."""
    if not path.is_file():
        raise SystemExit(f"{path}: no such file; give the accounts-receivable CSV export")
    raw = pd.read_csv(path)
    missing = [c for c in AR_COLUMNS if c not in raw.columns]
    if missing:
        raise SystemExit(
            f"{path}: missing column(s) {', '.join(missing)}; the export needs {', '.join(AR_COLUMNS)}"
        )
    dates = {c: pd.to_datetime(raw[c], format="%m/%d/%Y") for c in ("InvoiceDate", "DueDate", "SettledDate")}
    invoices = pd.DataFrame(
        {
            "invoice_id": "I" + raw["invoiceNumber"].astype(str),
            "customer_id": raw["customerID"].astype(str),
            "issue_date": dates["InvoiceDate"].dt.date,
            "due_date": dates["DueDate"].dt.date,
            "amount": raw["InvoiceAmount"],
            "settled_date": dates["SettledDate"].dt.date,
        }
    )
    customers = (
        invoices.assign(country=raw["countryCode"].astype(str))
        .groupby("customer_id", as_index=False)
        .agg(onboarding_date=("issue_date", "min"), country=("country", "first"))
    )
    folder.mkdir(parents=True, exist_ok=True)
    customers.to_csv(folder / "customers.csv", index=False)
    invoices.to_csv(folder / "invoices.csv", index=False)
    return folder


def default_cuts(table: pd.DataFrame) -> list[date]:
    issued = pd.to_datetime(table["issue_date"]).sort_values().reset_index(drop=True)
    return [issued.iloc[int(share * (len(issued) - 1))].date() for share in CUT_SHARES]


def _riskmodel(*args: str) -> None:
    env = os.environ | {"BENTOML_DO_NOT_TRACK": "True", "MLFLOW_DISABLE_TELEMETRY": "true"}
    command = [sys.executable, "-m", "riskmodel.cli", "-q", *args]  # the interpreter running this script
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"riskmodel {args[0]} failed:\n{done.stderr[-2000:]}")


def judge_cut(ledger_dir: Path, table: pd.DataFrame, cut: date, work: Path, min_positives: int) -> list[dict]:
    """Train on what was known at ``cut``, score at issue, and compare on the invoices issued after it."""
    store = f"sqlite:///{work / f'mlflow-{cut}.db'}"
    scores = work / f"scores-{cut}.csv"
    _riskmodel(
        "train",
        str(ledger_dir),
        "--as-of",
        cut.isoformat(),
        "--models",
        "late_payment",
        "--tracking-uri",
        store,
    )
    _riskmodel("score-invoices", str(ledger_dir), "--out", str(scores), "--tracking-uri", store)
    scored = table[["invoice_id"]].merge(
        pd.read_csv(scores), on="invoice_id", how="left", validate="one_to_one"
    )
    after = (pd.to_datetime(table["issue_date"]) > pd.Timestamp(cut)).to_numpy()
    rows = []
    for target in LATE_PAYMENT.targets:
        label = table[target.label].to_numpy(dtype=float)
        judged = after & ~np.isnan(label)
        y = label[judged]
        if y.sum() < min_positives or y.sum() == len(y):
            continue
        rate = past_late_rate(table, target, HORIZON_MONTHS, LATE_PAYMENT)[judged]
        model_auc = auc(y, scored[target.output].to_numpy()[judged])
        rate_auc = auc(y, rate)
        rows.append(
            {
                "cut": cut.isoformat(),
                "output": target.output,
                "invoices": int(judged.sum()),
                "late": int(y.sum()),
                "model_auc": round(model_auc, 4),
                "past_late_rate_auc": round(rate_auc, 4),
                "gain": round(model_auc - rate_auc, 4),
            }
        )
    return rows


def markdown(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledger", nargs="?", type=Path, help="ledger folder (or use --ar-csv)")
    parser.add_argument("--ar-csv", type=Path, help="accounts-receivable export in the IBM sample's columns")
    parser.add_argument("--cuts", help="comma-separated cut dates (default: 55/70/85 %% of the invoices)")
    parser.add_argument("--min-positives", type=int, default=10)
    args = parser.parse_args(argv)
    if (args.ledger is None) == (args.ar_csv is None):
        parser.error("give a ledger folder or --ar-csv FILE")
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="riskmodel-heldout-") as tmp:
        work = Path(tmp)
        ledger_dir = args.ledger or ledger_from_ar_csv(args.ar_csv, work / "ledger")
        ledger = load_ledger(ledger_dir)
        table = late_payment_training_table(ledger)
        cuts = [date.fromisoformat(c) for c in args.cuts.split(",")] if args.cuts else default_cuts(table)
        rows = [row for cut in cuts for row in judge_cut(ledger_dir, table, cut, work, args.min_positives)]
    frame = pd.DataFrame(rows)
    print(markdown(frame) if len(frame) else "no threshold had enough late invoices after a cut")
    gains = frame.groupby("output")["gain"].mean().round(4).to_dict() if len(frame) else {}
    print(json.dumps({"ledger": str(args.ar_csv or args.ledger), "mean_gain": gains, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
