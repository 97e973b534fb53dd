"""The feature registry: built once per config, read-only, keyword-equal configs kept apart."""

from __future__ import annotations

import dataclasses

import pytest

from riskmodel.features.definitions import (
    Feature,
    FeatureConfig,
    build_registry,
    describe,
    features_for,
)


def test_registry_is_built_once_per_config_and_cannot_be_changed() -> None:
    registry = build_registry()
    assert build_registry() is registry
    assert build_registry(FeatureConfig()) is registry
    assert isinstance(registry, tuple) and all(isinstance(f, Feature) for f in registry)
    with pytest.raises(dataclasses.FrozenInstanceError):
        registry[0].sql = "1"  # type: ignore[misc]
    assert len({f.name for f in registry}) == len(registry)


def test_windows_given_as_a_list_give_the_same_registry() -> None:
    config = FeatureConfig(windows_days=[30, 60])  # type: ignore[arg-type]
    assert config.windows_days == (30, 60) and hash(config) == hash(FeatureConfig(windows_days=(30, 60)))
    assert build_registry(config) == build_registry(FeatureConfig(windows_days=(30, 60)))


def test_equal_configs_spelled_differently_do_not_share_a_cached_registry() -> None:
    as_floats = FeatureConfig(windows_days=(90.0, 180.0, 365.0))  # type: ignore[arg-type]
    assert as_floats == FeatureConfig()
    build_registry()
    names = {f.name for f in build_registry(as_floats)}
    assert "days_beyond_terms_mean_90.0d" in names and "days_beyond_terms_mean_90d" not in names
    assert "days_beyond_terms_mean_90d" in {f.name for f in build_registry()}


def test_window_settings_name_the_features() -> None:
    names = [f.name for f in build_registry(FeatureConfig(windows_days=(30, 60), last_n=3))]
    assert "days_beyond_terms_trend_30_60" in names and "days_beyond_terms_mean_last3" in names
    assert "days_beyond_terms_mean_90d" not in names


def test_levels_and_descriptions() -> None:
    onboarding = {f.name for f in features_for("onboarding")}
    assert "bureau_score" in onboarding and "open_balance" not in onboarding
    assert all(f.levels == ("invoice",) for f in build_registry() if f.group == "invoice")
    assert describe("open_balance") == "open balance"
    assert describe("open_balance", "zh") == "未结余额"
    config = FeatureConfig(windows_days=(30, 60))
    assert describe("n_disputes_60d", config=config) == "disputes raised in the last 60 days"
    with pytest.raises(KeyError, match="unknown feature"):
        describe("n_disputes_365d", config=config)
