"""Where the heavy steps of a rescoring run: in this process (DuckDB and the models here) or on Spark.

An engine computes the portfolio's customer features, runs the models' step of
:func:`riskmodel.scoring.score_prepared` (:func:`riskmodel.scoring.score_features`: PD,
grade, reason codes) on chunks of customers and scores open invoices with the
late-payment model. The rest of ``score_prepared`` (alerts with memory, limits) and the
database run in the driving process, the same for every engine.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Protocol

import numpy as np
import pandas as pd

from riskmodel.features.customer import customer_features
from riskmodel.features.definitions import FeatureConfig
from riskmodel.ledger.tables import Ledger
from riskmodel.rescore.chunks import Chunk, Portfolio
from riskmodel.scoring import ModelBundle, score_features, score_open_invoices

logger = logging.getLogger(__name__)

INVOICES_PER_QUERY = 100_000  # about 2 GB of DuckDB working memory for invoice features


class ScoringEngine(Protocol):
    """The steps an engine runs; see the module docstring."""

    name: str

    def customer_features(self, ledger: Ledger, as_of: date, config: FeatureConfig) -> pd.DataFrame:
        """Features of every customer active at ``as_of`` (:func:`riskmodel.features.customer.customer_features`)."""
        ...

    def score_chunks(
        self, bundle: ModelBundle, portfolio: Portfolio, chunks: Sequence[Chunk], lang: str
    ) -> Iterator[tuple[Chunk, pd.DataFrame]]:
        """Each chunk with its :func:`riskmodel.scoring.score_features` table, in the order given.

        The table is ``score_features(bundle, features, default_state, portfolio.comparison, lang)``
        of the chunk's rows (:meth:`Portfolio.rows`): the ``scored`` argument of
        :func:`riskmodel.scoring.score_prepared`.
        """
        ...

    def score_invoices(self, bundle: ModelBundle, ledger: Ledger, invoices: pd.DataFrame) -> pd.DataFrame:
        """``invoices`` with late-payment probabilities (:func:`riskmodel.scoring.score_open_invoices`)."""
        ...

    def close(self) -> None: ...


class LocalEngine:
    """The embedded engine: DuckDB features and the models in this process, one chunk at a time.

    The next chunk is scored in a background thread while the caller runs the policy on
    the current one and commits it (LightGBM releases the GIL while it predicts).
    """

    name = "local"

    def __init__(self, invoices_per_query: int = INVOICES_PER_QUERY) -> None:
        self.invoices_per_query = invoices_per_query

    def customer_features(self, ledger: Ledger, as_of: date, config: FeatureConfig) -> pd.DataFrame:
        return customer_features(ledger, as_of, config)

    def score_chunks(
        self, bundle: ModelBundle, portfolio: Portfolio, chunks: Sequence[Chunk], lang: str
    ) -> Iterator[tuple[Chunk, pd.DataFrame]]:
        def score(chunk: Chunk) -> pd.DataFrame:
            features, default_state = portfolio.rows(chunk)
            return score_features(bundle, features, default_state, portfolio.comparison, lang)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rescore-score") as pool:
            ahead: deque[tuple[Chunk, Future[pd.DataFrame]]] = deque()
            for chunk in chunks:
                ahead.append((chunk, pool.submit(score, chunk)))
                if len(ahead) > 1:
                    done, future = ahead.popleft()
                    yield done, future.result()
            while ahead:
                done, future = ahead.popleft()
                yield done, future.result()

    def score_invoices(self, bundle: ModelBundle, ledger: Ledger, invoices: pd.DataFrame) -> pd.DataFrame:
        """Late-payment scores, one feature query per batch of whole customers (bounded memory)."""
        batches = customer_batches(invoices, self.invoices_per_query)
        parts = []
        for number, batch in enumerate(batches, start=1):
            parts.append(score_open_invoices(bundle, ledger, batch))
            logger.info(
                "open invoices: batch %d of %d scored (%s invoices)", number, len(batches), f"{len(batch):,}"
            )
        return pd.concat(parts, ignore_index=True) if parts else score_open_invoices(bundle, ledger, invoices)

    def close(self) -> None:
        """Nothing to release."""


def customer_batches(invoices: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    """``invoices`` cut into batches of about ``size`` rows that never split a customer."""
    if invoices.empty:
        return []
    codes = pd.factorize(invoices["customer_id"], sort=True)[0]
    per_customer = np.bincount(codes)
    batch_of_customer = (np.cumsum(per_customer) - per_customer) // size
    groups = pd.Series(np.arange(len(invoices))).groupby(batch_of_customer[codes]).indices
    return [invoices.iloc[rows] for _, rows in sorted(groups.items())]
