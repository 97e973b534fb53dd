"""The online single-customer path returns the batch row for the same customer and date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from riskmodel.features.customer import customer_features
from riskmodel.features.online import OnlineFeatureStore
from riskmodel.ledger import ledger_from_frames
from riskmodel.sample import make_sample_tables

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
