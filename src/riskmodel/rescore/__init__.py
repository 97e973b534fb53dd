"""Batch rescoring of the portfolio as of a date (``riskmodel rescore``), embedded by default or on Spark.

:func:`rescore` runs :func:`rescore_portfolio` (scores and alert changes into the results
database, chunk by chunk, resumable), then writes the export files and returns the
summary read back from the database.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from riskmodel.ledger.tables import Ledger
from riskmodel.progress import CountProgress
from riskmodel.rescore.chunks import Chunk, Portfolio, plan_chunks
from riskmodel.rescore.engines import LocalEngine, ScoringEngine
from riskmodel.rescore.export import EXPORT_COLUMNS, export_frame, write_exports
from riskmodel.rescore.run import DEFAULT_CHUNK_SIZE, RescoreResult, rescore_portfolio
from riskmodel.rescore.summary import RescoreSummary, format_summary, summarise_run
from riskmodel.scoring import ModelBundle, open_invoices
from riskmodel.store import ResultsStore

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "EXPORT_COLUMNS",
    "Chunk",
    "LocalEngine",
    "Portfolio",
    "RescoreReport",
    "RescoreResult",
    "RescoreSummary",
    "ScoringEngine",
    "export_frame",
    "format_summary",
    "plan_chunks",
    "rescore",
    "rescore_portfolio",
]


@dataclass(frozen=True)
class RescoreReport:
    """A run's result, its summary and the files written."""

    result: RescoreResult
    summary: RescoreSummary
    written: list[Path]


def rescore(
    ledger: Ledger,
    bundle: ModelBundle,
    as_of: date,
    store: ResultsStore,
    out: str | Path | None = None,
    engine: ScoringEngine | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    lang: str = "en",
    progress: CountProgress | None = None,
    invoice_scores: bool = True,
) -> RescoreReport:
    """Rescore the portfolio (:func:`rescore_portfolio`), export it to ``out`` and summarise the run.

    With ``out``, the customer scores are exported from the database (all chunks, whichever
    process committed them); beside them go the late-payment scores of the open invoices
    (unless ``invoice_scores`` is off; computed in a background thread while the chunks are
    scored) and the customers with rejected ledger rows.
    """
    engine = engine or LocalEngine()
    score_open = out is not None and invoice_scores
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="open-invoices") as pool:
        scoring: list[Future[pd.DataFrame]] = []

        def score_in_background(invoices: pd.DataFrame) -> None:
            """Late-payment scores of the open invoices, computed while the chunks are scored and committed."""
            if bundle.late_payment is None:
                logger.warning(
                    "no late-payment model: the %s open invoices are exported without late-payment probabilities",
                    f"{len(invoices):,}",
                )
            else:
                logger.info("scoring %s open invoices with the late-payment model", f"{len(invoices):,}")
            scoring.append(pool.submit(engine.score_invoices, bundle, ledger, invoices))

        def on_portfolio(portfolio: Portfolio) -> None:
            if score_open:
                score_in_background(portfolio.invoices)

        result = rescore_portfolio(
            ledger, bundle, as_of, store, engine, chunk_size, lang, progress, on_portfolio=on_portfolio
        )
        summary = summarise_run(store, result.run, result.status, ledger, bundle, result.portfolio)
        if score_open and not scoring:  # the run had finished before: the open invoices of its customers
            score_in_background(open_invoices(ledger, as_of, store.run_scores(result.run)["customer_id"]))
        invoices = scoring[0].result() if scoring else None
    written: list[Path] = []
    if invoices is not None:
        logger.info("%s open invoices scored", f"{len(invoices):,}")
    if out is not None:
        written = write_exports(store, result.run, out, invoices, summary.rejected)
        logger.info("export written: %s", ", ".join(str(path) for path in written))
    return RescoreReport(result, summary, written)
