"""The feature registry: every model feature, defined once as portable SQL, with its meaning.

Each :class:`Feature` carries the SQL that computes it (over the per-snapshot history
rows built in :mod:`riskmodel.features.query`), a plain-language description in English
and Chinese, its unit, and the direction in which it raises risk. Training, batch
rescoring, the online service and reason codes all read this one list.

One module per feature family, in registry order:

==================== ==========================================================================
``aging``            open balance, open and overdue invoices, open amount and share per bucket
``behaviour``        days beyond terms and late-payment shares per window and last ``last_n``
``volume``           amounts and counts invoiced, growth, average invoice; DSO and its trend
``recency_disputes`` days since the last payment / late payment / invoice; disputes; partial
                     payments; write-offs and credit events
``customer_facts``   limit utilisation, tenure, terms and firmographics (the customer row)
``invoice``          the invoice's own features (invoice-level models only)
==================== ==========================================================================

:mod:`riskmodel.features.definitions.base` holds what the families share: :class:`Feature`,
:class:`FeatureConfig`, the stages and levels, ``AGING_BUCKETS`` and the SQL helpers.

The built registry is cached per :class:`FeatureConfig`; it is a tuple of frozen features,
so callers cannot change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

from riskmodel.features.definitions import (
    aging,
    behaviour,
    customer_facts,
    invoice,
    recency_disputes,
    volume,
)
from riskmodel.features.definitions.base import (
    AGING_BUCKETS,
    SETTLED_IN,
    Feature,
    FeatureConfig,
    Level,
    Stage,
)

__all__ = [
    "AGING_BUCKETS",
    "SETTLED_IN",
    "Feature",
    "FeatureConfig",
    "Level",
    "Stage",
    "build_registry",
    "describe",
    "features_for",
]

# The families in registry order (the order of the feature table's columns).
_FAMILIES = (aging, behaviour, volume, recency_disputes, customer_facts, invoice)


def build_registry(config: FeatureConfig | None = None) -> tuple[Feature, ...]:
    """All features for the given windows, in a stable order (names unique).

    Built once per config and cached; the result is an immutable tuple of frozen features.
    """
    config = config or FeatureConfig()
    return _registry(config, repr(config))


# Configs that compare equal can still read differently in SQL and names (2 and 2.0,
# 90 and 90.0): the repr, passed along with the config, keeps them apart in the caches.
@lru_cache(maxsize=32)
def _registry(config: FeatureConfig, _spelling: str) -> tuple[Feature, ...]:
    features = tuple(feature for family in _FAMILIES for feature in family.features(config))
    names = [f.name for f in features]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ValueError(f"feature names must be unique; repeated: {sorted(duplicated)}")
    return features


@lru_cache(maxsize=32)
def _by_name(config: FeatureConfig, spelling: str) -> Mapping[str, Feature]:
    return MappingProxyType({f.name: f for f in _registry(config, spelling)})


def features_for(level: Level, config: FeatureConfig | None = None) -> tuple[Feature, ...]:
    """The features a model of ``level`` uses."""
    return tuple(f for f in build_registry(config) if level in f.levels)


def describe(feature_name: str, lang: Literal["en", "zh"] = "en", config: FeatureConfig | None = None) -> str:
    """Plain-language description of a feature in English or Chinese."""
    config = config or FeatureConfig()
    feature = _by_name(config, repr(config)).get(feature_name)
    if feature is None:
        raise KeyError(f"unknown feature '{feature_name}'")
    return feature.zh if lang == "zh" else feature.en
