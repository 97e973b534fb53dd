"""One customer's features on demand, from the same SQL as the batch path.

The store keeps each table sorted by ``customer_id`` with an index of where every
customer's rows start, so a request hands DuckDB only that customer's rows, and the
feature query is prepared (parsed and planned) once per store. Serving
dates can be *warmed*: the batch query runs once for every customer and requests for
that date become lookups. Either way the numbers come from the one feature query.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.features.customer import customer_snapshots, snapshot_features
from riskmodel.features.definitions import FeatureConfig
from riskmodel.features.invoice import share_kept_features
from riskmodel.features.query import build_feature_sql
from riskmodel.ledger.schema import TABLE_NAMES
from riskmodel.ledger.tables import Ledger
from riskmodel.locks import KeyedLock

_TABLES = TABLE_NAMES
T = TypeVar("T")
MAX_CHUNKS = 256  # appended pushes before a store's tables are built afresh
MAX_KEPT_FRAMES = 10_000  # customer-dates kept per store (features about 15 KB, scoring inputs a few KB more)


def row_ranges(customer_ids: np.ndarray) -> dict[str, tuple[int, int]]:
    """First row and row count of each customer in rows grouped by customer."""
    unique, start, count = np.unique(customer_ids, return_index=True, return_counts=True)
    return dict(zip(unique.tolist(), zip(start.tolist(), count.tolist(), strict=True), strict=True))


class OnlineFeatureStore:
    """Customer features one request at a time, equal to :func:`customer_features` for the same date.

    Parameters
    ----------
    ledger
        The validated ledger to serve from.
    config
        Feature windows; must match the ones the model was trained with.
    """

    def __init__(self, ledger: Ledger, config: FeatureConfig | None = None) -> None:
        self.ledger = ledger
        self.config = config or FeatureConfig()
        self._tables: dict[str, pa.Table] = {}
        self._rows: dict[str, dict[str, tuple[int, int]]] = {}
        for name in _TABLES:
            table = getattr(ledger, name).sort_by("customer_id")
            self._tables[name] = table
            self._rows[name] = row_ranges(table["customer_id"].to_numpy(zero_copy_only=False))
        self._con = duckdb.connect()
        self._con.execute("SET threads = 1")
        for (
            name
        ) in _TABLES:  # empty tables of the ledger's schemas, refilled with one customer's rows per request
            self._con.register("empty", self._tables[name].slice(0, 0))
            self._con.execute(f"CREATE TABLE {name} AS SELECT * FROM empty")
        self._con.unregister("empty")
        self._con.execute("CREATE TABLE snapshots (snapshot_id BIGINT, customer_id VARCHAR, as_of DATE)")
        self._con.execute(
            "PREPARE customer_features AS " + build_feature_sql("customer", self.config)
        )  # planned once
        self._lock = threading.Lock()
        self._warm: dict[date, pd.DataFrame] = {}
        self._kept: dict[tuple[date, str], dict[str, Any]] = {}  # (as_of, customer_id) -> name -> value
        self._computing = KeyedLock()  # held while a kept value is computed

    def with_rows_of(self, ledger: Ledger, changed: frozenset[str]) -> OnlineFeatureStore:
        """This store serving ``ledger``, which differs from the one served only in the ``changed`` customers' rows.

        Their rows are appended and indexed; every other customer's rows and kept values, the
        DuckDB connection and the prepared query are shared. Built afresh instead when the
        tables' columns changed, or after many such appends (each adds a chunk).
        """
        ids = pa.array(sorted(changed), pa.string())
        fresh = {
            name: getattr(ledger, name).filter(pc.is_in(getattr(ledger, name)["customer_id"], value_set=ids))
            for name in _TABLES
        }
        if any(
            fresh[name].schema != self._tables[name].schema
            or self._tables[name]["customer_id"].num_chunks > MAX_CHUNKS
            for name in _TABLES
        ):
            store = OnlineFeatureStore(ledger, self.config)
            store.keep_from(self, changed)
            return store
        store = copy.copy(self)
        store.ledger, store._tables, store._rows, store._warm = ledger, {}, {}, {}
        store._computing = KeyedLock()
        for name in _TABLES:
            rows = fresh[name].sort_by("customer_id")
            held = self._tables[name]
            ranges = dict.fromkeys(changed, (0, 0))
            ranges |= {
                c: (held.num_rows + start, n)
                for c, (start, n) in row_ranges(rows["customer_id"].to_numpy(zero_copy_only=False)).items()
            }
            store._tables[name] = pa.concat_tables([held, rows])
            store._rows[name] = {**self._rows[name], **ranges}
        store.keep_from(self, changed)
        return store

    def has_customer(self, customer_id: str) -> bool:
        """Whether the ledger knows this customer."""
        return self._rows["customers"].get(customer_id, (0, 0))[1] > 0

    def warm(self, as_of: date) -> None:
        """Compute every customer's features as of ``as_of`` in one batch; later requests for it are lookups."""
        snapshots = customer_snapshots(self.ledger, [as_of])
        frame = snapshot_features(self.ledger, snapshots, self.config).drop(columns="snapshot_id")
        self._warm[as_of] = frame.set_index("customer_id", drop=False)

    def features(self, customer_id: str, as_of: date) -> pd.Series:
        """The customer's features known at the end of ``as_of``, indexed by feature name.

        Raises
        ------
        KeyError
            When the ledger has no such customer.
        """
        if not self.has_customer(customer_id):
            raise KeyError(customer_id)
        warm = self._warm.get(as_of)
        if warm is not None and customer_id in warm.index:
            return warm.loc[customer_id]
        return self.compute(customer_id, as_of)

    def customer_ledger(self, customer_id: str) -> Ledger:
        """The ledger cut down to one customer's rows (for scoring one customer with the batch code)."""
        return self.ledger_of([customer_id])

    def ledger_of(self, customer_ids: Iterable[str]) -> Ledger:
        """The ledger cut down to these customers' rows (grouped by customer)."""
        ids = list(customer_ids)
        tables = {}
        for name in _TABLES:
            ranges = [self._rows[name].get(customer_id, (0, 0)) for customer_id in ids]
            parts = [self._tables[name].slice(start, count) for start, count in ranges if count]
            if len(parts) == 1:
                tables[name] = parts[0]
            else:
                tables[name] = pa.concat_tables(parts) if parts else self._tables[name].slice(0, 0)
        part = dataclasses.replace(self.ledger, **tables)
        share_kept_features(part, self.ledger)
        return part

    def frame(self, customer_id: str, as_of: date) -> pd.DataFrame:
        """:meth:`compute_frame`, kept per (``as_of``, customer) while the customer's rows stay the same (:meth:`kept`)."""
        return self.kept(
            customer_id, as_of, "features", lambda: self.compute_frame(customer_id, as_of)
        ).copy()

    def kept(self, customer_id: str, as_of: date, name: str, compute: Callable[[], T]) -> T:
        """``compute()``, kept under ``name`` per (``as_of``, customer) and read back while the customer's rows stay the same.

        Whatever is kept must be worked out from the customer's own rows and ``as_of`` alone
        (features, default state, open invoices, their scores), so it changes only when
        those rows do (:meth:`keep_from` leaves out the customers a push touched). Callers
        must not change what they get back. At most ``MAX_KEPT_FRAMES`` customer-dates are
        kept; the oldest go first.
        """
        key = (as_of, customer_id)
        values = self._kept.get(key)
        if values is not None and name in values:
            return values[name]
        with self._computing.holding((key, name)):  # one computation per value: a second caller waits for it
            values = self._kept.get(key)
            if values is not None and name in values:
                return values[name]
            value = compute()
            with self._lock:
                values = self._kept.get(key)
                if values is None:
                    while len(self._kept) >= MAX_KEPT_FRAMES:
                        del self._kept[next(iter(self._kept))]
                    values = self._kept[key] = {}
                values[name] = value
        return value

    def keep_from(self, previous: OnlineFeatureStore, changed: frozenset[str]) -> None:
        """Take over the rows ``previous`` kept, except those of the ``changed`` customers (their rows are new)."""
        with previous._lock:
            kept = dict(previous._kept)
        self._kept = {key: row for key, row in kept.items() if key[1] not in changed}

    def compute(self, customer_id: str, as_of: date) -> pd.Series:
        """Run the feature query on this customer's rows only (no cache)."""
        return self.compute_frame(customer_id, as_of).iloc[0]

    def compute_frame(self, customer_id: str, as_of: date) -> pd.DataFrame:
        """The customer's features as a one-row table, as :func:`customer_features` would give it."""
        with self._lock:
            for name in _TABLES:
                self._con.execute(f"DELETE FROM {name}")
                start, count = self._rows[name].get(customer_id, (0, 0))
                if count:
                    self._con.register("rows", self._tables[name].slice(start, count))
                    self._con.execute(f"INSERT INTO {name} SELECT * FROM rows")
                    self._con.unregister("rows")
            self._con.execute("DELETE FROM snapshots")
            self._con.execute("INSERT INTO snapshots VALUES (0, ?, ?)", [customer_id, as_of])
            frame = self._con.execute("EXECUTE customer_features").df()
        return frame.drop(columns="snapshot_id")

    def close(self) -> None:
        self._con.close()
