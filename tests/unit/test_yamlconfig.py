"""The typed YAML loader: the training configuration's errors name the file, key, type, value and fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from riskmodel.exceptions import ConfigError, PolicyError, TrainConfigError
from riskmodel.models.config import GBMParams, TrainConfig, load_train_config
from riskmodel.yamlconfig import parse_yaml_config


@dataclass(frozen=True)
class Inner:
    mode: Literal["a", "b"] = "a"


@dataclass(frozen=True)
class Outer:
    inner: Inner = field(default_factory=Inner)
    sizes: tuple[int, ...] = (1, 2)
    name: str | None = None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_wrong_training_type_names_file_key_type_value_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "gbm:\n  learning_rate: fast\n")
    with pytest.raises(TrainConfigError) as caught:
        load_train_config(path)
    assert str(caught.value) == (
        f"{path}: gbm.learning_rate must be a number; got str 'fast'; "
        "write a number, or remove the key to keep the default 0.05"
    )


def test_a_section_that_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(
        TrainConfigError, match=r"train.yaml: gbm must be a mapping of keys to values; got a list"
    ):
        load_train_config(write(tmp_path, "gbm: [1]\n"))


def test_a_training_rule_names_the_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(TrainConfigError, match=r"train.yaml: gbm.n_estimators must be at least 1; got 0"):
        load_train_config(write(tmp_path, "gbm:\n  n_estimators: 0\n"))


def test_bagging_needs_at_least_one_bag(tmp_path: Path) -> None:
    with pytest.raises(TrainConfigError, match=r"train.yaml: gbm.n_bags must be at least 1; got 0"):
        load_train_config(write(tmp_path, "gbm:\n  n_bags: 0\n"))


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_train_config(write(tmp_path, "")) == TrainConfig()


def test_lists_become_tuples_and_ints_become_floats(tmp_path: Path) -> None:
    config = load_train_config(
        write(tmp_path, "features:\n  windows_days: [30, 60]\ngbm:\n  learning_rate: 1\n")
    )
    assert config.features.windows_days == (30, 60)
    assert config.gbm == GBMParams(learning_rate=1.0) and isinstance(config.gbm.learning_rate, float)


def test_a_missing_file_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(
        TrainConfigError, match=r"cannot read .*nope.yaml: .*pass the path of a YAML configuration file"
    ):
        load_train_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("inner:\n  mode: c\n", r"^x.yaml: inner.mode must be one of 'a', 'b'; got str 'c'; write one of"),
        ("sizes: [1, two]\n", r"^x.yaml: sizes\[1\] must be an integer; got str 'two'$"),
        ("sizes: 3\n", r"^x.yaml: sizes must be a list of an integer; got int 3; .* default \[1, 2\]"),
        ("name: 5\n", r"^x.yaml: name must be a string or null; got int 5"),
        (
            "other: 1\n",
            r"^x.yaml: other is not a known key; expected keys under the top level: inner, sizes, name",
        ),
        ("- 1\n", r"^x.yaml: the file must be a mapping of keys to values; got a list of 1 items"),
        ("a: [\n", r"^x.yaml is not valid YAML"),
    ],
    ids=["literal", "list-item", "not-a-list", "optional", "unknown-key", "not-a-mapping", "bad-yaml"],
)
def test_generic_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_yaml_config(Outer, text, "x.yaml")


def test_the_caller_chooses_the_error_class() -> None:
    with pytest.raises(PolicyError):
        parse_yaml_config(Outer, "other: 1\n", "x.yaml", PolicyError)


def test_early_stopping_metric_and_bins_are_checked(tmp_path: Path) -> None:
    with pytest.raises(
        TrainConfigError, match=r"gbm.early_stopping_metric must be 'auc' or 'binary_logloss'"
    ):
        load_train_config(write(tmp_path, "gbm:\n  early_stopping_metric: gini\n"))
    with pytest.raises(TrainConfigError, match=r"gbm.max_bin must be at least 2; got 1"):
        load_train_config(write(tmp_path, "gbm:\n  max_bin: 1\n"))
