"""Send ledger rows to a running service (``riskmodel push``): what an ERP export job runs nightly.

Rows come from a folder holding any of the ledger's tables (``invoices.csv``,
``payments.parquet``, ...) or from one such file, and go to ``POST /ledger`` in batches,
parents first (customers, then invoices, payments, events, customer_history). Each batch
is accepted whole or refused whole by the service; a refused batch stops the push and
names the file row. Batches sent before it stay accepted, and sending the same rows
again changes nothing, so a push can simply be run again once the row is fixed.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from riskmodel.exceptions import RiskModelError
from riskmodel.ledger.schema import TABLE_NAMES

logger = logging.getLogger(__name__)

DEFAULT_BATCH_ROWS = 1000


class PushError(RiskModelError):
    """A push that could not be sent, or a batch the service refused."""


@dataclass
class PushSummary:
    """Rows the service added, updated and already held, per table, over all batches."""

    batches: int = 0
    added: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    data_end: str | None = None

    def count(self, answer: dict[str, Any]) -> None:
        self.batches += 1
        for name in ("added", "updated", "unchanged"):
            totals = getattr(self, name)
            for table, n in answer.get(name, {}).items():
                totals[table] = totals.get(table, 0) + int(n)
        self.data_end = answer.get("data_end", self.data_end)


def table_files(source: Path) -> list[tuple[str, Path]]:
    """The ledger tables at ``source`` (a folder, or one file named after its table), parents first."""
    if source.is_file():
        name = source.stem
        if name not in TABLE_NAMES or source.suffix not in (".csv", ".parquet"):
            raise PushError(
                f"{source}: name the file after its table ({', '.join(TABLE_NAMES)}) with .csv or .parquet"
            )
        return [(name, source)]
    if not source.is_dir():
        raise PushError(
            f"{source} is neither a folder nor a file; pass a folder of ledger tables or one table file"
        )
    found = [
        (name, path)
        for name in TABLE_NAMES
        for path in (source / f"{name}.csv", source / f"{name}.parquet")
        if path.is_file()
    ]
    if not found:
        raise PushError(f"{source} holds none of {', '.join(f'{n}.csv' for n in TABLE_NAMES)} (or .parquet)")
    return found


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of one table file as JSON-ready dicts; empty cells are left out (not sent)."""
    if path.suffix == ".csv":
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={}, strings_can_be_null=True, auto_dict_encode=False
            ),
        )
        table = table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))
    else:
        table = pq.read_table(path)
    rows = []
    for row in table.to_pylist():
        rows.append({k.strip().lower(): _json_value(v) for k, v in row.items() if v is not None and v != ""})
    return rows


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    return value


def batches(
    tables: list[tuple[str, Path]], batch_rows: int
) -> Iterator[tuple[str, Path, int, list[dict[str, Any]]]]:
    """(table, file, first row index, rows) of each batch, table by table in the order given."""
    for name, path in tables:
        rows = read_rows(path)
        logger.info("%s: %d row(s) to send", path, len(rows))
        for start in range(0, len(rows), batch_rows):
            yield name, path, start, rows[start : start + batch_rows]


def push_folder(source: Path, url: str, key: str | None, batch_rows: int = DEFAULT_BATCH_ROWS) -> PushSummary:
    """Send every row at ``source`` to the service at ``url`` (``POST {url}/ledger``), in batches.

    Raises
    ------
    PushError
        When the service cannot be reached or refuses a batch; the message names the file
        row (CSV rows as a spreadsheet counts them, header = row 1) and what is wrong.
    """
    summary = PushSummary()
    endpoint = url.rstrip("/") + "/ledger"
    for name, path, start, rows in batches(table_files(source), batch_rows):
        status, answer = _post(endpoint, {name: rows}, key)
        if status >= 400:
            raise PushError(_refusal(path, start, status, answer, summary))
        summary.count(answer)
        logger.info(
            "%s rows %d-%d: %s added, %s updated, %s already held",
            path.name,
            start + 1,
            start + len(rows),
            answer["added"].get(name, 0),
            answer["updated"].get(name, 0),
            answer["unchanged"].get(name, 0),
        )
    return summary


def _post(endpoint: str, body: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(endpoint, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        text = err.read()
        try:
            return err.code, json.loads(text)
        except ValueError:
            return err.code, {"error": text.decode(errors="replace")[:300]}
    except (urllib.error.URLError, OSError) as err:
        raise PushError(f"cannot reach {endpoint}: {err}; is 'riskmodel serve' running there?") from err


def _refusal(path: Path, start: int, status: int, answer: dict[str, Any], summary: PushSummary) -> str:
    """A refused batch in the file's terms: which rows, which file row, what is wrong."""
    first_row = 2 if path.suffix == ".csv" else 1
    problems = []
    for item in answer.get("detail", [])[:5]:
        field_path, message = str(item.get("field", "")), str(item.get("message", ""))
        index = _row_index(field_path)
        where = f"row {start + index + first_row}" if index is not None else "the batch"
        column = field_path.rsplit(".", 1)[-1] if "." in field_path else ""
        problems.append(f"{path.name} {where}{f', {column}' if column else ''}: {message}")
    sent = f"; the {summary.batches} batch(es) before it were accepted" if summary.batches else ""
    detail = "; ".join(problems) or str(answer.get("error", answer))
    return f"the service refused the batch from {path.name} row {start + first_row} on ({status}): {detail}{sent}; nothing of this batch was written; fix the row and push again (rows already accepted are skipped)"


def _row_index(field_path: str) -> int | None:
    """``invoices[3].due_date`` -> 3."""
    if "[" not in field_path:
        return None
    try:
        return int(field_path.split("[", 1)[1].split("]", 1)[0])
    except ValueError:
        return None
