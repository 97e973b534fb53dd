"""Alert memory across two consecutive month-ends, and the same run on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from riskmodel.rescore import rescore_portfolio
from riskmodel.rescore.summary import summarise_run
from riskmodel.scoring import score_customers
from riskmodel.store import ResultsStore
from tests.integration_helpers import fresh_postgres_database

pytestmark = pytest.mark.slow
NOVEMBER, DECEMBER = date(2025, 11, 30), date(2025, 12, 31)
IDENTITY = ["customer_id", "alert_type", "key"]


def identities(frame: pd.DataFrame) -> set[tuple[str, str, str]]:
    return set(frame[IDENTITY].astype(str).itertuples(index=False, name=None))


@pytest.fixture(scope="module")
def two_month_ends(bundle, sample_ledger, tmp_path_factory):
    store = ResultsStore(tmp_path_factory.mktemp("memory") / "results.db")
    november = rescore_portfolio(sample_ledger, bundle, NOVEMBER, store, chunk_size=150)
    open_after_november = store.open_alerts()
    november_scores = store.scores_for(NOVEMBER, bundle.model_version)
    december = rescore_portfolio(sample_ledger, bundle, DECEMBER, store, chunk_size=150)
    yield store, november, december, open_after_november, november_scores
    store.close()


def test_december_opens_and_closes_what_one_unchunked_evaluation_does(two_month_ends, bundle, sample_ledger):
    store, _, december, open_after_november, november_scores = two_month_ends
    reference = score_customers(
        bundle,
        sample_ledger,
        DECEMBER,
        previous=november_scores[["customer_id", "pd_12m", "grade"]],
        open_alerts=open_after_november,
    ).alerts
    opened = store.alerts_opened_in(december.run_id)
    closed = store.alerts_closed_in(december.run_id)
    assert len(opened) > 0 and len(closed) > 0
    assert identities(opened) == identities(reference.new)
    assert identities(closed) == identities(reference.closed)
    assert "pd_jump" in set(opened["alert_type"])  # needs the previous run's scores
    assert (closed["closed_as_of"] == DECEMBER).all()


def test_continuing_alerts_are_not_opened_again(two_month_ends, bundle, sample_ledger):
    store, november, _, open_after_november, _ = two_month_ends
    now_open = store.open_alerts()
    assert not now_open.duplicated(IDENTITY).any()
    kept = now_open[now_open["opened_run_id"] == november.run_id]
    assert len(kept) > 0
    assert identities(kept) <= identities(open_after_november)
    assert (kept["opened_as_of"] == NOVEMBER).all()


def test_the_same_run_on_postgresql_matches_sqlite(bundle, sample_ledger, tmp_path):
    sqlite = ResultsStore(tmp_path / "results.db")
    rescore_portfolio(sample_ledger, bundle, DECEMBER, sqlite, chunk_size=300)
    with fresh_postgres_database() as url:
        postgres = ResultsStore(url)
        first = rescore_portfolio(sample_ledger, bundle, DECEMBER, postgres, chunk_size=300)
        again = rescore_portfolio(sample_ledger, bundle, DECEMBER, postgres, chunk_size=300)
        assert (first.status, again.status) == ("finished", "already finished")
        assert again.chunks_committed == 0
        stored = postgres.scores_for(DECEMBER, bundle.model_version).sort_values("customer_id")
        expected = sqlite.scores_for(DECEMBER, bundle.model_version).sort_values("customer_id")
        columns = ["customer_id", "pd_12m", "grade", "recommended_limit", "limit_rationale", "reasons"]
        pd.testing.assert_frame_equal(
            stored[columns].reset_index(drop=True), expected[columns].reset_index(drop=True)
        )
        assert identities(postgres.open_alerts()) == identities(sqlite.open_alerts())
        postgres.close()
    sqlite.close()


def test_a_date_before_any_customer_finishes_with_nothing_scored(bundle, sample_ledger, tmp_path):
    store = ResultsStore(tmp_path / "results.db")
    result = rescore_portfolio(sample_ledger, bundle, date(2001, 1, 31), store)
    summary = summarise_run(store, result.run, result.status, sample_ledger)
    assert (result.status, result.run["n_customers"], summary.n_scored) == ("finished", 0, 0)
    assert summary.grade_migration.to_numpy().sum() == 0 and summary.new_alerts == {}
    store.close()
