"""Run the feature SQL on DuckDB over a ledger's Arrow tables."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from riskmodel.features.query import build_feature_sql
from riskmodel.features.registry import FeatureConfig, Level
from riskmodel.ledger.tables import Ledger


def connect(ledger: Ledger) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the ledger's tables registered (zero-copy)."""
    con = duckdb.connect()
    for name in ("customers", "invoices", "payments", "events"):
        con.register(name, getattr(ledger, name))
    return con


def run_feature_query(ledger: Ledger, snapshots: pa.Table, level: Level, config: FeatureConfig | None = None) -> pd.DataFrame:
    """Features for every snapshot row (see :func:`riskmodel.features.query.build_feature_sql`)."""
    con = connect(ledger)
    try:
        con.register("snapshots", snapshots)
        return con.sql(build_feature_sql(level, config)).df()
    finally:
        con.close()
