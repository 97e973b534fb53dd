"""Point-in-time property: features as of d from the full ledger equal those from the ledger truncated at d."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.features.asof import truncate_ledger
from riskmodel.features.customer import customer_features
from riskmodel.features.engine import run_feature_query
from riskmodel.features.invoice import invoice_features, invoice_snapshots
from riskmodel.features.online import OnlineFeatureStore
from riskmodel.ledger import ledger_from_frames
from tests.strategies import as_of_dates, random_ledger_frames

PIT_SETTINGS = settings(max_examples=60, deadline=None)


def _sorted(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.sort_values(key).reset_index(drop=True)


@PIT_SETTINGS
@given(frames=random_ledger_frames(with_history=True), as_of=as_of_dates)
def test_customer_features_do_not_see_the_future(frames, as_of):
    ledger = ledger_from_frames(frames, strict=True)
    full = customer_features(ledger, as_of, active_only=False)
    known = customer_features(truncate_ledger(ledger, as_of), as_of, active_only=False)
    pd.testing.assert_frame_equal(_sorted(full, "customer_id"), _sorted(known, "customer_id"))


@PIT_SETTINGS
@given(frames=random_ledger_frames(with_history=True), as_of=as_of_dates)
def test_invoice_features_do_not_see_the_future(frames, as_of):
    ledger = ledger_from_frames(frames, strict=True)
    full = invoice_features(ledger, as_of)
    known = invoice_features(truncate_ledger(ledger, as_of))
    pd.testing.assert_frame_equal(_sorted(full, "invoice_id"), _sorted(known, "invoice_id"))


@PIT_SETTINGS
@given(frames=random_ledger_frames(with_history=True), as_of=as_of_dates)
def test_active_customers_do_not_depend_on_the_future(frames, as_of):
    ledger = ledger_from_frames(frames, strict=True)
    full = set(customer_features(ledger, as_of)["customer_id"])
    known = set(customer_features(truncate_ledger(ledger, as_of), as_of)["customer_id"])
    assert full == known


@settings(max_examples=25, deadline=None)
@given(frames=random_ledger_frames(with_history=True))
def test_features_computed_in_customer_chunks_equal_one_pass(frames):
    ledger = ledger_from_frames(frames, strict=True)
    snapshots = invoice_snapshots(ledger)
    one_pass = run_feature_query(ledger, snapshots, "invoice")
    chunked = run_feature_query(ledger, snapshots, "invoice", snapshots_per_chunk=3)
    pd.testing.assert_frame_equal(one_pass, chunked)


@settings(max_examples=25, deadline=None)
@given(frames=random_ledger_frames(with_history=True), data=st.data())
def test_features_at_issue_kept_with_the_ledger_equal_those_computed_afresh(frames, data):
    """Named invoices are computed once per ledger: later requests, in any order and overlap, read the same rows."""
    ledger = ledger_from_frames(frames, strict=True)
    every = invoice_features(ledger)
    ids = every["invoice_id"].tolist()
    for _ in range(3):
        asked = data.draw(st.lists(st.sampled_from(ids), unique=True) if ids else st.just([]))
        kept = invoice_features(ledger, invoice_ids=asked)
        expected = every[every["invoice_id"].isin(asked)].reset_index(drop=True)
        pd.testing.assert_frame_equal(kept, expected, check_index_type=False, check_dtype=bool(asked))


@settings(max_examples=10, deadline=None)
@given(frames=random_ledger_frames(with_history=True))
def test_features_at_issue_are_kept_per_ledger_object(frames):
    """A ledger read again (new rows, a what-if history) never reads another ledger's kept features."""
    ledger = ledger_from_frames(frames, strict=True)
    ids = ledger.invoices["invoice_id"].to_pylist()
    kept = invoice_features(ledger, invoice_ids=ids)
    amounts = ledger.invoices.schema.get_field_index("amount")
    doubled = ledger.invoices.set_column(amounts, "amount", pc.multiply(ledger.invoices["amount"], 2.0))
    changed = invoice_features(dataclasses.replace(ledger, invoices=doubled), invoice_ids=ids)
    np.testing.assert_allclose(changed["invoice_amount"], 2.0 * kept["invoice_amount"])


@settings(max_examples=15, deadline=None)
@given(frames=random_ledger_frames(with_history=True))
def test_one_customer_cut_reads_the_whole_ledgers_kept_features(frames):
    """The service scores a customer on its cut of the ledger; kept features of the whole serve it unchanged."""
    ledger = ledger_from_frames(frames, strict=True)
    ids = ledger.invoices["invoice_id"].to_pylist()
    invoice_features(ledger, invoice_ids=ids)  # kept for the whole ledger, as at service start
    store = OnlineFeatureStore(ledger)
    for customer_id in ledger.customers["customer_id"].to_pylist():
        part = store.customer_ledger(customer_id)
        afresh = invoice_features(part)  # all the part's invoices, computed on its rows
        read = invoice_features(part, invoice_ids=ids)  # every id asked: only the part's come back
        pd.testing.assert_frame_equal(read, afresh, check_dtype=not afresh.empty)
