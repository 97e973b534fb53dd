"""Online equals batch: the service's /score answer is the batch score_customers row for the same customer and date."""

from __future__ import annotations

import datetime as dt

import pytest

from riskmodel.ledger import load_ledger
from riskmodel.scoring import ModelBundle, score_customers
from tests.conftest import SAMPLE

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def bundle(service) -> ModelBundle:
    return ModelBundle.from_registry(service.tracking_uri)


@pytest.fixture(scope="module")
def ledger():
    return load_ledger(SAMPLE)


@pytest.mark.parametrize("as_of", [None, dt.date(2025, 6, 30)], ids=["data-end", "mid-2025"])
def test_service_score_equals_the_batch_row(api, bundle, ledger, as_of):
    as_of_date = as_of or ledger.data_end
    batch = score_customers(bundle, ledger, as_of_date).scores.set_index("customer_id")
    for customer_id in batch.index[::151]:
        body = {"customer_id": customer_id} | ({"as_of": as_of.isoformat()} if as_of else {})
        online = api.post("/score", json=body).json()
        row = batch.loc[customer_id]
        assert online["as_of"] == as_of_date.isoformat()
        assert online["pd_12m"] == pytest.approx(row["pd_12m"], abs=1e-12)
        assert online["grade"] == row["grade"]
        assert online["recommended_limit"] == pytest.approx(row["recommended_limit"])
        assert [r["feature"] for r in online["reasons"]] == [r["feature"] for r in row["reasons"]]
        for mine, theirs in zip(online["reasons"], row["reasons"], strict=True):
            assert mine["contribution"] == pytest.approx(theirs["contribution"], abs=1e-9)
            assert mine["comparison"] == (
                None if theirs["comparison"] is None else pytest.approx(theirs["comparison"])
            )
            assert mine["description"] == theirs["description"]
