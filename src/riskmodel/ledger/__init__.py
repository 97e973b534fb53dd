"""The canonical ledger: schema, loading with validation, writing, and the synthetic sample."""

from riskmodel.ledger.load import ledger_from_frames, load_ledger
from riskmodel.ledger.tables import Ledger, TableReport, ValidationReport
from riskmodel.ledger.write import write_ledger, write_tables, write_tables_sql

__all__ = [
    "Ledger",
    "TableReport",
    "ValidationReport",
    "ledger_from_frames",
    "load_ledger",
    "write_ledger",
    "write_tables",
    "write_tables_sql",
]
