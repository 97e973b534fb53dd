"""Quarantine files and the human summary of a validation."""

from __future__ import annotations

from pathlib import Path

from riskmodel.ledger.schema import TABLES
from riskmodel.ledger.tables import Ledger, ValidationReport

MAX_LISTED = 10


def write_quarantine(report: ValidationReport, folder: str | Path) -> list[Path]:
    """Write one ``<table>.csv`` of rejected rows per table that has any; remove stale ones.

    Each file has ``file, row, column, reason`` and then the row's original values, so a
    fixed row can be copied back into the ledger.
    """
    folder = Path(folder)
    written = []
    for spec in TABLES:
        path = folder / f"{spec.name}.csv"
        rejects = report.rejected.get(spec.name)
        if rejects is None or rejects.empty:
            path.unlink(missing_ok=True)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        rejects.to_csv(path, index=False)
        written.append(path)
    return written


def format_summary(ledger: Ledger, quarantine_files: list[Path]) -> str:
    """A table of read/accepted/rejected per file and the first problems found."""
    report = ledger.report
    lines = [
        f"ledger {ledger.source}",
        f"{'table':<16} {'file':<26} {'read':>10} {'accepted':>10} {'rejected':>10}",
    ]
    for t in report.tables:
        lines.append(f"{t.table:<16} {t.file:<26} {t.read:>10,} {t.accepted:>10,} {t.rejected:>10,}")
    end = ledger.data_end
    lines.append(
        f"data ends {end.isoformat() if end else 'nowhere (no dated rows)'}; settlement from {'payments' if ledger.has_payments else 'invoices.settled_date'}; "
        f"customer facts {'dated by customer_history' if ledger.has_customer_history else 'undated (no customer_history: current values at every date)'}"
    )
    if report.is_clean:
        lines.append("all rows accepted")
        return "\n".join(lines)
    rows = report.rejected_rows()
    lines.append(
        f"{report.n_rejected:,} row(s) rejected; written to {', '.join(str(p) for p in quarantine_files)}"
    )
    for r in rows.head(MAX_LISTED).itertuples():
        lines.append(f"  {r.file} row {r.row}: {r.reason}")
    if len(rows) > MAX_LISTED:
        lines.append(f"  ... and {len(rows) - MAX_LISTED:,} more in the quarantine files")
    lines.append(
        "fix the rows (or the source system) and validate again; other commands go on with the accepted rows"
    )
    return "\n".join(lines)
