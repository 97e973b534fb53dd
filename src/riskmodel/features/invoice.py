"""Invoice features at issue: the customer's features as of the day before, plus the invoice's own."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.features.definitions import FeatureConfig
from riskmodel.features.engine import run_feature_query, write_feature_query
from riskmodel.ledger.tables import Ledger

MAX_KEPT_ROWS = 200_000  # features at issue kept per ledger and config (about 100 MB at most)
_AT_ISSUE: weakref.WeakKeyDictionary[Ledger, dict[FeatureConfig, pd.DataFrame]] = weakref.WeakKeyDictionary()
_POSITIONS: weakref.WeakKeyDictionary[Ledger, pd.Index] = weakref.WeakKeyDictionary()
_SHARED_WITH: weakref.WeakKeyDictionary[Ledger, Ledger] = weakref.WeakKeyDictionary()


def share_kept_features(part: Ledger, whole: Ledger) -> None:
    """Let ``part``, ``whole`` cut down to some customers' rows, read and add to the features kept for ``whole``.

    An invoice's features at issue read only its own customer's rows, so they are the same
    in both (the service scores one customer on such a cut).
    """
    _SHARED_WITH[part] = _SHARED_WITH.get(whole, whole)


def invoice_snapshots(
    ledger: Ledger, as_of: date | None = None, invoice_ids: Iterable[str] | None = None
) -> pa.Table:
    """One snapshot per invoice issued on or before ``as_of`` (all when None), dated the day before issue.

    ``invoice_ids`` limits the snapshots to those invoices (e.g. the open ones being scored).
    """
    invoices = ledger.invoices
    if invoice_ids is not None:
        invoices = invoices.filter(
            pc.is_in(invoices["invoice_id"], value_set=pa.array(list(invoice_ids), pa.string()))
        )
    if as_of is not None:
        invoices = invoices.filter(pc.less_equal(invoices["issue_date"], pa.scalar(as_of, pa.date32())))
    issue = invoices["issue_date"]
    as_of_day = pc.subtract(issue.cast(pa.int32()), pa.scalar(1, pa.int32())).cast(pa.date32())
    terms = pc.subtract(invoices["due_date"].cast(pa.int32()), issue.cast(pa.int32())).cast(pa.int64())
    return pa.table(
        {
            "snapshot_id": pa.array(range(invoices.num_rows), pa.int64()),
            "invoice_id": invoices["invoice_id"],
            "customer_id": invoices["customer_id"],
            "issue_date": issue,
            "as_of": as_of_day,
            "invoice_amount": invoices["amount"],
            "invoice_terms_days": terms,
            "invoice_issue_month": pc.month(issue).cast(pa.int64()),
        }
    )


def invoice_features(
    ledger: Ledger,
    as_of: date | None = None,
    config: FeatureConfig | None = None,
    invoice_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Features of each invoice issued on or before ``as_of``, each as of its own issue date.

    Keyed by ``invoice_id``; the customer part is computed as of the day before issue, so
    an invoice never sees itself or anything issued, paid or disputed on its issue day.
    Rows follow the ledger's invoice order. Named invoices (``invoice_ids``, no ``as_of``)
    are computed once per ledger and config and kept with the ledger: an invoice's features
    at issue cannot change while the ledger does not, so scoring the same open invoices
    again (the service's later requests) reads them back.
    """
    if invoice_ids is not None and as_of is None:
        return _kept_features(ledger, config or FeatureConfig(), invoice_ids)
    return _computed_features(ledger, as_of, config, invoice_ids)


def write_invoice_features(
    ledger: Ledger, path: Path, as_of: date | None = None, config: FeatureConfig | None = None
) -> int:
    """Write :func:`invoice_features` to ``path`` (.parquet or .csv) chunk by chunk; returns the rows written.

    The same rows and columns in the same order, without the whole table in memory
    (:func:`riskmodel.features.engine.write_feature_query`): the table of a large ledger
    is larger than the machine's memory.
    """
    snapshots = invoice_snapshots(ledger, as_of)
    return write_feature_query(ledger, snapshots, "invoice", path, config, keys=("invoice_id", "issue_date"))


def _computed_features(
    ledger: Ledger, as_of: date | None, config: FeatureConfig | None, invoice_ids: Iterable[str] | None
) -> pd.DataFrame:
    snapshots = invoice_snapshots(ledger, as_of, invoice_ids)
    frame = run_feature_query(ledger, snapshots, "invoice", config)
    # snapshot_id is the row number of ``snapshots`` and the query returns rows in its order: add the keys in place.
    if not np.array_equal(frame["snapshot_id"].to_numpy(), np.arange(snapshots.num_rows)):
        raise AssertionError("the feature query must return one row per snapshot, in snapshot order")
    frame = frame.drop(columns=["snapshot_id", "as_of"])
    frame.insert(0, "issue_date", snapshots["issue_date"].to_pandas(date_as_object=False))
    frame.insert(0, "invoice_id", snapshots["invoice_id"].to_pandas())
    return frame


def _kept_features(ledger: Ledger, config: FeatureConfig, invoice_ids: Iterable[str]) -> pd.DataFrame:
    """:func:`invoice_features` of the named invoices, computing only those not kept for ``ledger`` yet."""
    wanted = pd.Index(pd.unique(pd.Series(list(invoice_ids), dtype=object)))
    if wanted.empty:
        return _computed_features(ledger, None, config, [])
    by_config = _AT_ISSUE.setdefault(_SHARED_WITH.get(ledger, ledger), {})
    kept = by_config.get(config)
    missing = wanted if kept is None else wanted.difference(kept.index, sort=False)
    if len(missing):
        fresh = _computed_features(ledger, None, config, missing)
        fresh.index = pd.Index(fresh["invoice_id"], dtype=object)
        kept = fresh if kept is None else pd.concat([kept, fresh])
        if len(kept) > MAX_KEPT_ROWS:  # a batch (or a long-running service) past the bound: start afresh
            by_config.pop(config, None)
        else:
            by_config[config] = kept
        if len(missing) == len(wanted):  # all computed now, in the ledger's order already
            return fresh.reset_index(drop=True)
    rows = kept.loc[kept.index.intersection(wanted, sort=False)]
    order = _ledger_positions(ledger).get_indexer(rows.index)  # -1: kept from the whole, not in this part
    inside = np.nonzero(order >= 0)[0]
    return rows.iloc[inside[np.argsort(order[inside], kind="stable")]].reset_index(drop=True)


def _ledger_positions(ledger: Ledger) -> pd.Index:
    """The ledger's invoice ids in row order, as an index to look positions up in."""
    if ledger not in _POSITIONS:
        _POSITIONS[ledger] = pd.Index(ledger.invoices["invoice_id"].to_pandas(), dtype=object)
    return _POSITIONS[ledger]


def carry_kept_features(old: Ledger, new: Ledger, seen_from: Mapping[str, date]) -> None:
    """Keep for ``new`` (``old`` with rows added or changed) the features at issue kept for ``old``.

    ``seen_from`` gives, per customer whose rows changed, the first day a change can be seen:
    that customer's invoices issued after it are left out (their features read the day
    before issue). Every other invoice reads only rows that did not change; when none is
    left out, the kept table itself is shared.
    """
    kept = _AT_ISSUE.get(_SHARED_WITH.get(old, old))
    if not kept:
        return
    customers = pd.Series(list(seen_from), dtype=object)
    days = pd.Series(
        [pd.Timestamp(day) for day in seen_from.values()], index=customers, dtype="datetime64[ns]"
    )
    carried = {}
    for config, frame in kept.items():
        touched = frame["customer_id"].isin(customers).to_numpy()
        stale = np.zeros(len(frame), dtype=bool)
        if touched.any():
            first_day = days.reindex(frame["customer_id"][touched]).to_numpy()
            stale[touched] = pd.to_datetime(frame["issue_date"][touched]).to_numpy() > first_day
        carried[config] = frame[~stale] if stale.any() else frame
    _AT_ISSUE[new] = carried
