"""Rescore the portfolio as of a date, chunk by chunk, so that a killed run resumes where it stopped.

Features, default dates, open invoices and the portfolio medians are computed once
(:func:`riskmodel.scoring.prepare_customers`). The customers, sorted by id, are cut into
chunks; each chunk goes through :func:`riskmodel.scoring.score_prepared`, the function the
service's scores go through, with alert memory (the previous run's scores, the stored
open alerts), and is committed with its alerts in one transaction (:meth:`ResultsStore.commit_chunk`). A run
is identified by ``(as_of, model_version)``: starting it again skips committed chunks,
and a finished run is left as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from riskmodel.exceptions import RescoreError
from riskmodel.ledger.tables import Ledger
from riskmodel.progress import CountProgress
from riskmodel.rescore.chunks import Chunk, Portfolio, count_chunks, fingerprint, plan_chunks
from riskmodel.rescore.engines import LocalEngine, ScoringEngine
from riskmodel.rescore.records import score_rows
from riskmodel.scoring import ModelBundle, prepare_customers, score_prepared
from riskmodel.store import ResultsStore

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 5_000


@dataclass(frozen=True)
class RescoreResult:
    """What a call of :func:`rescore_portfolio` did.

    ``status`` is ``"finished"`` (this call committed the last chunk) or ``"already finished"``
    (nothing was left to do, nothing was written).
    """

    run: dict[str, Any]
    status: str
    chunks_committed: int
    chunks_resumed: int
    portfolio: Portfolio | None

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])


def build_portfolio(engine: ScoringEngine, ledger: Ledger, bundle: ModelBundle, as_of: date) -> Portfolio:
    """Features, default state and open invoices of every active customer, computed once."""
    features = engine.customer_features(ledger, as_of, bundle.feature_config)
    logger.info("features of %s active customers as of %s computed", f"{len(features):,}", as_of)
    if bundle.default is None:
        logger.info(
            "no default model: customers are graded by the payment-behaviour rules of policy %s",
            bundle.policy.version,
        )
    return Portfolio.build(
        prepare_customers(ledger, as_of, features, bundle.policy.default), bundle.comparison_features
    )


def rescore_portfolio(
    ledger: Ledger,
    bundle: ModelBundle,
    as_of: date,
    store: ResultsStore,
    engine: ScoringEngine | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    lang: str = "en",
    progress: CountProgress | None = None,
    on_portfolio: Callable[[Portfolio], None] | None = None,
) -> RescoreResult:
    """Score every customer active at ``as_of`` and store scores and alert changes chunk by chunk.

    Parameters
    ----------
    engine
        Where features and models run (default :class:`LocalEngine`).
    chunk_size
        Customers per chunk of a new run; a resumed run keeps the chunks it started with.
    progress
        Told the number of customers, those already committed and each chunk committed.
    on_portfolio
        Called with the portfolio once it is built, before any chunk is scored (not called
        when the run had finished before).
    """
    engine = engine or LocalEngine()
    existing = store.find_run(as_of, bundle.model_version)
    if existing is not None and existing["status"] == "done":
        logger.info(
            "run %s (as of %s, models %s) finished at %s; nothing to do",
            existing["run_id"],
            as_of,
            bundle.model_version,
            existing["finished_at"],
        )
        return RescoreResult(existing, "already finished", 0, existing["n_chunks"], None)

    portfolio = build_portfolio(engine, ledger, bundle, as_of)
    if on_portfolio is not None:
        on_portfolio(portfolio)
    digest = f"sha256:{fingerprint(portfolio.customer_ids)}"
    source = f"{ledger.source} (active customers {digest}; {ledger.report.n_rejected:,} ledger rows rejected)"
    n_customers = len(portfolio.features)
    run_id, done = store.start_run(
        as_of,
        bundle.model_version,
        bundle.policy.version,
        engine.name,
        source,
        n_customers=n_customers,
        n_chunks=count_chunks(n_customers, chunk_size),
    )
    run = store.run(run_id)
    _check_resumable(run, digest, bundle)
    chunks = plan_chunks(n_customers, run["n_chunks"])
    pending = [chunk for chunk in chunks if chunk.number not in done]
    if done:
        logger.info("resuming run %s: %d of %d chunks already committed", run_id, len(done), len(chunks))
    progress = progress or CountProgress()
    progress.start(n_customers, done=sum(chunk.size for chunk in chunks if chunk.number in done))
    _score_and_commit(engine, bundle, portfolio, chunks, pending, store, run_id, lang, progress)
    progress.finish()
    store.finish_run(run_id)
    return RescoreResult(store.run(run_id), "finished", len(pending), len(done), portfolio)


def _score_and_commit(
    engine: ScoringEngine,
    bundle: ModelBundle,
    portfolio: Portfolio,
    chunks: list[Chunk],
    pending: list[Chunk],
    store: ResultsStore,
    run_id: str,
    lang: str,
    progress: CountProgress,
) -> None:
    """Score the pending chunks (:func:`riskmodel.scoring.score_prepared`) and commit each with its alert changes.

    The engine runs the models' step (:func:`riskmodel.scoring.score_features`) where it
    runs them; the rest of ``score_prepared`` runs here.
    """
    as_of = portfolio.as_of
    previous_run = store.previous_run(as_of)
    previous = portfolio.split(store.run_scores(previous_run), chunks)
    known_alerts = portfolio.split(store.open_alerts(), chunks)
    invoices = portfolio.split(portfolio.invoices, chunks)
    if previous_run is not None:
        logger.info("alert memory: previous run as of %s, stored open alerts", previous_run["as_of"])
    for chunk, scored in engine.score_chunks(bundle, portfolio, pending, lang):
        result = score_prepared(
            bundle,
            portfolio.prepared(chunk, invoices[chunk.number]),
            previous=previous[chunk.number] if previous_run is not None else None,
            open_alerts=known_alerts[chunk.number],
            comparison=portfolio.comparison,
            lang=lang,
            scored=scored,
        )
        opened, closed = result.alerts.changes(as_of, run_id)
        if not store.commit_chunk(run_id, chunk.number, score_rows(result, bundle, run_id), opened, closed):
            logger.warning(
                "chunk %d of run %s was committed by another process; kept as it is", chunk.number, run_id
            )
        progress.advance(chunk.size)


def _check_resumable(run: dict[str, Any], digest: str, bundle: ModelBundle) -> None:
    """A resumed run must score the same customers under the same policy."""
    if digest not in run["source"]:
        raise RescoreError(
            f"run {run['run_id']} as of {run['as_of']} was started on other active customers ({run['source']}; "
            f"now {digest}): the ledger changed since. Resume it with the ledger it started with, or remove the "
            "unfinished run (its rows in score_runs, score_run_chunks, scores and the alerts it opened) to start over"
        )
    if run["policy_version"] != bundle.policy.version:
        raise RescoreError(
            f"run {run['run_id']} as of {run['as_of']} was started with policy {run['policy_version']}; "
            f"got policy {bundle.policy.version}. Resume it with the policy it started with"
        )
