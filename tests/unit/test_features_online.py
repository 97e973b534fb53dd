"""The online single-customer path returns the batch row for the same customer and date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.features.customer import customer_features
from riskmodel.features.invoice import carry_kept_features, invoice_features
from riskmodel.features.online import OnlineFeatureStore
from riskmodel.ledger import ledger_from_frames
from riskmodel.ledger.load import apply_pushed
from riskmodel.ledger.pushes import Change
from riskmodel.sample import make_sample_tables
from tests.strategies import as_of_dates, random_ledger_frames

AS_OF = dt.date(2024, 9, 30)


@pytest.fixture(scope="module")
def ledger():
    tables = make_sample_tables(n_customers=120, seed=3, start=dt.date(2023, 1, 1), months=24)  # AS_OF inside
    return ledger_from_frames(tables, strict=True)


def _assert_same(online: pd.Series, batch: pd.Series) -> None:
    for name in batch.index:
        a, b = online[name], batch[name]
        if pd.isna(b):
            assert pd.isna(a), name
        elif isinstance(b, (int, float, np.number)):
            assert float(a) == pytest.approx(float(b), rel=1e-9, abs=1e-9), name
        else:
            assert str(a) == str(b), name


def test_computed_online_row_equals_batch_row(ledger):
    store = OnlineFeatureStore(ledger)
    batch = customer_features(ledger, AS_OF, active_only=False).set_index("customer_id", drop=False)
    for customer_id in batch.index[::7]:
        _assert_same(store.compute(customer_id, AS_OF), batch.loc[customer_id])


def test_warmed_lookup_equals_computed_row(ledger):
    store = OnlineFeatureStore(ledger)
    customer_id = ledger.customers["customer_id"][0].as_py()
    computed = store.compute(customer_id, AS_OF)
    store.warm(AS_OF)
    _assert_same(store.features(customer_id, AS_OF), computed)


def test_unknown_customer_raises_key_error(ledger):
    with pytest.raises(KeyError):
        OnlineFeatureStore(ledger).features("NOPE", AS_OF)


def test_customer_id_with_quotes_is_data_not_sql(ledger):
    store = OnlineFeatureStore(ledger)
    assert not store.has_customer("x'); DROP TABLE customers; --")


def test_kept_rows_are_read_back_and_dropped_for_customers_whose_rows_changed(ledger, monkeypatch):
    store = OnlineFeatureStore(ledger)
    first, second = (c.as_py() for c in ledger.customers["customer_id"][:2])
    expected = store.compute_frame(first, AS_OF)
    computed: list[str] = []
    original = store.compute_frame

    def counting(customer_id: str, as_of: dt.date) -> pd.DataFrame:
        computed.append(customer_id)
        return original(customer_id, as_of)

    monkeypatch.setattr(store, "compute_frame", counting)
    for _ in range(3):
        row = store.frame(first, AS_OF)
        pd.testing.assert_frame_equal(row, expected)
        row.loc[0, row.columns[-1]] = None  # a caller's change stays its own
    store.frame(second, AS_OF)
    assert computed == [first, second]

    after_push = OnlineFeatureStore(ledger)
    after_push.keep_from(store, frozenset({second}))
    monkeypatch.setattr(after_push, "compute_frame", counting)
    pd.testing.assert_frame_equal(after_push.frame(first, AS_OF), expected)
    after_push.frame(second, AS_OF)
    assert computed == [first, second, second]


def _pushed_row(row: dict) -> dict[str, str | None]:
    """A frame row as a pushed row's text (dates ISO, empty for missing)."""

    def text(value: object) -> str | None:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return None
        if isinstance(value, pd.Timestamp | dt.date):
            return value.strftime("%Y-%m-%d")
        return str(value)

    return {name: text(value) for name, value in row.items()}


@settings(max_examples=25, deadline=None)
@given(frames=random_ledger_frames(with_history=True), data=st.data())
def test_the_store_after_any_pushes_equals_the_batch_features_of_the_ledger_they_make(frames, data):
    """Rows held back and pushed in random batches (any date) leave the online rows equal to the batch rows."""
    invoices = frames["invoices"]
    held_back = set(
        data.draw(st.lists(st.sampled_from(sorted(invoices["invoice_id"])), unique=True))
        if len(invoices)
        else []
    )
    pushed_payments = frames["payments"]["invoice_id"].isin(held_back)
    later = {
        "invoices": invoices[invoices["invoice_id"].isin(held_back)],
        "payments": frames["payments"][pushed_payments],
        "events": frames["events"].iloc[: data.draw(st.integers(0, len(frames["events"])))],
        "customer_history": frames["customer_history"].iloc[
            : data.draw(st.integers(0, len(frames["customer_history"])))
        ],
    }
    first = {
        **frames,
        "invoices": invoices[~invoices["invoice_id"].isin(held_back)],
        "payments": frames["payments"][~pushed_payments],
        "events": frames["events"].iloc[len(later["events"]) :],
        "customer_history": frames["customer_history"].iloc[len(later["customer_history"]) :],
    }
    ledger = ledger_from_frames(first, strict=True)
    store = OnlineFeatureStore(ledger)
    changes = [
        Change(name, "add", _pushed_row(row), i)
        for name in ("invoices", "payments", "events", "customer_history")  # parents first
        for i, row in enumerate(later[name].to_dict("records"))
    ]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(changes)), max_size=3)))
    for start, end in zip([0, *cuts], [*cuts, len(changes)], strict=True):
        batch = changes[start:end]  # a payment comes after its invoice: in this batch or an earlier one
        invoice_features(
            ledger, invoice_ids=ledger.invoices["invoice_id"].to_pylist()
        )  # kept, as in the service
        before, (ledger, seen_from) = ledger, apply_pushed(ledger, batch)
        store = store.with_rows_of(ledger, frozenset(seen_from))
        carry_kept_features(before, ledger, seen_from)  # the features at issue a push leaves as they were
        read = invoice_features(ledger, invoice_ids=ledger.invoices["invoice_id"].to_pylist())
        pd.testing.assert_frame_equal(read, invoice_features(ledger), check_dtype=not read.empty)
    final = ledger_from_frames({**first, **{n: pd.concat([first[n], later[n]]) for n in later}}, strict=True)
    as_of = data.draw(as_of_dates)
    for customer_id in final.customers["customer_id"].to_pylist():
        batch_row = customer_features(final, as_of, active_only=False, customer_ids=[customer_id])
        if batch_row.empty:  # onboarded after as_of
            continue
        _assert_same(
            store.compute(customer_id, as_of), batch_row.drop(columns="snapshot_id", errors="ignore").iloc[0]
        )
