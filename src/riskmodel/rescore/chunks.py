"""The portfolio of one rescoring: active customers sorted by id, cut into deterministic chunks."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from riskmodel.explain import comparison_points
from riskmodel.scoring import PreparedCustomers


@dataclass(frozen=True)
class Chunk:
    """Rows ``start`` to ``stop`` (exclusive) of the portfolio, committed as one unit."""

    number: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


def count_chunks(n_customers: int, chunk_size: int) -> int:
    """Chunks of at most ``chunk_size`` customers (at least one, so that an empty run still finishes)."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1; got {chunk_size}")
    return max(1, math.ceil(n_customers / chunk_size))


def plan_chunks(n_customers: int, n_chunks: int) -> list[Chunk]:
    """Chunk ``k`` holds rows ``k * n // K`` up to ``(k + 1) * n // K`` of the customers sorted by id.

    The cut depends only on the number of customers and of chunks, so a resumed run
    finds the same customers in every chunk.

    Examples
    --------
    >>> [(c.start, c.stop) for c in plan_chunks(10, 3)]
    [(0, 3), (3, 6), (6, 10)]
    """
    bounds = [k * n_customers // n_chunks for k in range(n_chunks + 1)]
    return [Chunk(k, bounds[k], bounds[k + 1]) for k in range(n_chunks)]


def fingerprint(customer_ids: pd.Series) -> str:
    """A short hash of the sorted customer ids: a resumed run must see the same portfolio."""
    digest = hashlib.sha256("\n".join(customer_ids.astype(str)).encode("utf-8"))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Portfolio:
    """Everything a chunk needs, computed once for the whole portfolio.

    The fields of :class:`riskmodel.scoring.PreparedCustomers` for the whole portfolio,
    sorted, and the portfolio medians.

    Attributes
    ----------
    features
        One row per active customer, sorted by ``customer_id`` (index 0..n-1).
    default_state
        Default state of each customer at ``as_of`` (:func:`riskmodel.scoring.customer_default_state`), aligned with ``features``.
    invoices
        Open invoices at ``as_of`` of these customers (:func:`riskmodel.scoring.open_invoices`).
    comparison
        Portfolio medians of the model's features: the comparison points of every reason.
    """

    as_of: date
    features: pd.DataFrame
    default_state: pd.DataFrame
    invoices: pd.DataFrame
    comparison: pd.Series

    @classmethod
    def build(cls, prepared: PreparedCustomers, feature_names: list[str]) -> Portfolio:
        """Sort by ``customer_id`` (``default_state`` follows its rows) and take the portfolio medians."""
        order = np.argsort(prepared.features["customer_id"].to_numpy(dtype=str), kind="stable")
        features = prepared.features.iloc[order].reset_index(drop=True)
        default_state = prepared.default_state.iloc[order].reset_index(drop=True)
        comparison = comparison_points(features[feature_names])
        return cls(prepared.as_of, features, default_state, prepared.invoices, comparison)

    @property
    def customer_ids(self) -> pd.Series:
        return self.features["customer_id"]

    def rows(self, chunk: Chunk) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Features and default state of the chunk's customers."""
        part = slice(chunk.start, chunk.stop)
        return self.features.iloc[part], self.default_state.iloc[part]

    def prepared(self, chunk: Chunk, invoices: pd.DataFrame) -> PreparedCustomers:
        """The chunk's customers as :func:`riskmodel.scoring.score_prepared` takes them, with their open ``invoices``."""
        features, default_state = self.rows(chunk)
        return PreparedCustomers(self.as_of, features, default_state, invoices)

    def split(self, frame: pd.DataFrame, chunks: list[Chunk]) -> dict[int, pd.DataFrame]:
        """Rows of ``frame`` (keyed by ``customer_id``) per chunk number; rows of other customers are left out."""
        position = pd.Index(self.customer_ids).get_indexer(frame["customer_id"])
        starts = np.array([chunk.start for chunk in chunks])
        number = np.where(position >= 0, np.searchsorted(starts, position, side="right") - 1, -1)
        groups = pd.Series(np.arange(len(number))).groupby(number).indices
        empty = frame.iloc[:0]
        return {
            chunk.number: frame.iloc[groups[chunk.number]] if chunk.number in groups else empty
            for chunk in chunks
        }
