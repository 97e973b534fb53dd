"""Policy file: loading, validation messages that name the key, master-scale grades."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from riskmodel.exceptions import PolicyError
from riskmodel.policy.config import Policy, load_policy, parse_policy

DELETE = object()


def policy_with(changes: dict[str, Any]) -> Policy:
    """The default policy with dotted keys replaced (``DELETE`` removes a key); list items as ``key.0``."""
    data = yaml.safe_load(load_policy().source_text)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return parse_policy(yaml.safe_dump(data, sort_keys=False), source="test.yaml")


def test_default_policy_loads_with_version_and_source() -> None:
    policy = load_policy()
    assert policy.version == "2026.11-4"
    assert "master_scale:" in policy.source_text
    assert policy.source_path is not None and policy.source_path.endswith("policy.yaml")


def test_to_dict_round_trips_through_yaml() -> None:
    policy = load_policy()
    again = parse_policy(yaml.safe_dump(policy.to_dict()))
    assert again == policy
    assert policy.to_dict()["master_scale"]["upper_pd"][-1] == 1.0


def test_load_policy_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        load_policy().source_text.replace('version: "2026.11-4"', 'version: "2027.01-2"'), encoding="utf-8"
    )
    policy = load_policy(path)
    assert policy.version == "2027.01-2"
    assert policy.source_path == str(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"master_scale.upper_pd": [0.003, 0.002, 0.012, 0.02, 0.035, 0.06, 0.10, 0.17, 0.30, 1.0]},
            r"master_scale.upper_pd must be strictly increasing",
        ),
        (
            {"master_scale.upper_pd": [0.003, 0.006, 0.012, 0.02, 0.035, 0.06, 0.10, 0.17, 1.0]},
            r"master_scale.upper_pd must have 10 increasing pd_12m upper bounds; got 9",
        ),
        ({"master_scale.upper_pd.9": 0.9}, r"master_scale.upper_pd\[9\] must be 1.0"),
        ({"credit_limit.rounding": DELETE}, r"credit_limit.rounding is missing; expected a number"),
        ({"credit_limit.max_limit": "lots"}, r"credit_limit.max_limit must be a number; got str 'lots'"),
        (
            {"onboarding.approve_max_grade": 4.5},
            r"onboarding.approve_max_grade must be an integer; got float 4.5",
        ),
        (
            {"alerts.grade_downgrade.notches": True},
            r"alerts.grade_downgrade.notches must be an integer; got bool True",
        ),
        (
            {"alerts.utilisation.levels.0.severity": "high"},
            r"alerts.utilisation.levels\[0\].severity must be one of 'info', 'warning', 'severe'; got str 'high'",
        ),
        (
            {"credit_limit.max_limt": 5},
            r"credit_limit.max_limt is not a known key; expected keys under credit_limit: volume_feature",
        ),
        (
            {"alert": {}},
            r"alert is not a known key; expected keys under the top level: version, master_scale",
        ),
        ({"version": 2026.11}, r"version must be a string; got float 2026.11"),
        (
            {"onboarding.review_max_grade": 3},
            r"onboarding: approve_max_grade <= review_max_grade <= prepayment_max_grade must hold; got \[4, 3, 8\]",
        ),
        (
            {"collection.tiers.2.min_days_past_due": 20},
            r"collection.tiers min_days_past_due must be strictly increasing; got \[1, 31, 20, 91\]",
        ),
        (
            {"alerts.utilisation.levels.1.threshold": 0.5},
            r"alerts.utilisation: levels of the alert rule on limit_utilisation must have strictly increasing thresholds",
        ),
        (
            {"drift.psi_warning": 0.3},
            r"drift: 0 < psi_warning < psi_severe must hold; got psi_warning=0.3, psi_severe=0.25",
        ),
        ({"alerts.overdue_invoice.min_tier": 5}, r"alerts.overdue_invoice.min_tier must be within 1..4"),
        (
            {"credit_limit.grade_multiplier": [1.0, 1.2, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.2, 0.0]},
            r"credit_limit.grade_multiplier must not increase",
        ),
        (
            {"credit_limit.review.max_decrease": 1.5},
            r"credit_limit.review.max_decrease must be a share within \[0, 1\]; got 1.5",
        ),
        (
            {"credit_limit.review.on_past_due": "stop"},
            r"credit_limit.review.on_past_due must be one of 'freeze', 'cut'; got str 'stop'",
        ),
        (
            {"master_scale": [0.1, 1.0]},
            r"master_scale must be a mapping of keys to values; got a list of 2 items",
        ),
    ],
    ids=[
        "band-order",
        "band-count",
        "last-band",
        "missing-key",
        "wrong-type-number",
        "wrong-type-integer",
        "bool-is-not-integer",
        "literal",
        "unknown-key",
        "unknown-top-key",
        "version-not-string",
        "onboarding-band-order",
        "tier-order",
        "level-order",
        "psi-order",
        "min-tier-range",
        "multiplier-order",
        "share-range",
        "breach-choice",
        "section-not-mapping",
    ],
)
def test_invalid_policy_names_key_and_expectation(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=rf"^test.yaml: {message}"):
        policy_with(changes)


def test_invalid_yaml_names_the_source() -> None:
    with pytest.raises(PolicyError, match=r"^broken.yaml is not valid YAML"):
        parse_policy("version: [unclosed", source="broken.yaml")


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(
        PolicyError, match=r"<string>: the file must be a mapping of keys to values; got a list of 1 items"
    ):
        parse_policy("- 1\n")


def test_missing_file_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(
        PolicyError, match=r"cannot read policy file .*nope.yaml.*pass the path of a policy YAML file"
    ):
        load_policy(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("pd_12m", "grade"),
    [
        (0.0, 1),
        (0.003, 1),
        (0.0030001, 2),
        (0.006, 2),
        (0.02, 4),
        (0.0200001, 5),
        (0.3, 9),
        (0.3000001, 10),
        (1.0, 10),
    ],
    ids=[
        "zero",
        "upper-1-inclusive",
        "just-above-1",
        "upper-2",
        "upper-4",
        "just-above-4",
        "upper-9",
        "just-above-9",
        "one",
    ],
)
def test_grade_boundaries(pd_12m: float, grade: int) -> None:
    assert load_policy().grade(pd_12m) == grade


def test_grade_is_vectorised_and_matches_scalars() -> None:
    policy = load_policy()
    pds = np.random.default_rng(0).beta(0.5, 20, size=500)
    assert policy.grade(pds).tolist() == [policy.grade(float(value)) for value in pds]
    assert isinstance(policy.grade(0.01), int)


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan")], ids=["negative", "above-one", "nan"])
def test_grade_rejects_values_that_are_not_probabilities(bad: float) -> None:
    with pytest.raises(ValueError, match=r"pd_12m must be a probability within \[0, 1\]"):
        load_policy().grade(np.array([0.1, bad]))
