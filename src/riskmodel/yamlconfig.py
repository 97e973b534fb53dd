"""Typed YAML configuration: a parsed mapping becomes frozen dataclasses, and every error names the key.

The project's one loader, for the credit policy (:mod:`riskmodel.policy.config`) and the
training parameters (:mod:`riskmodel.models.config`). Types come from the dataclass
annotations: ``bool``, ``int``, ``float``, ``str``, ``Literal[...]``, ``X | None``,
``tuple[X, ...]`` and nested dataclasses. Fields whose metadata has ``yaml=False`` are not
read from the mapping. Range and ordering rules live in each dataclass's ``__post_init__``.
Errors are raised as the caller's :class:`~riskmodel.exceptions.ConfigError` subclass,
in the shape ``<file>: <key.path> must be <type>; got <value>; <fix>``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

from riskmodel.exceptions import ConfigError

T = TypeVar("T")


def yaml_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of ``cls`` that the YAML file sets."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("yaml", True)]


def parse_yaml_config(cls: type[T], text: str, source: str, error: type[ConfigError] = ConfigError) -> T:
    """An instance of the dataclass ``cls`` from YAML ``text``; ``source`` names the text in errors.

    An empty text gives the defaults (when every field has one).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Params:
    ...     learning_rate: float = 0.05
    >>> parse_yaml_config(Params, "learning_rate: 0.1", "train.yaml")
    Params(learning_rate=0.1)
    >>> parse_yaml_config(Params, "learning_rate: fast", "train.yaml")
    Traceback (most recent call last):
    ...
    riskmodel.exceptions.ConfigError: train.yaml: learning_rate must be a number; got str 'fast'; write a number, or remove the key to keep the default 0.05
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise error(f"{source} is not valid YAML: {err}") from err
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise error(f"{source}: the file must be a mapping of keys to values; got {_describe_value(data)}")
    try:
        return build_section(cls, data, "", error)
    except ConfigError as err:
        raise error(f"{source}: {err}") from None


def load_yaml_config(cls: type[T], path: str | Path, error: type[ConfigError] = ConfigError) -> T:
    """An instance of the dataclass ``cls`` from the YAML file at ``path`` (see :func:`parse_yaml_config`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise error(
            f"cannot read {path}: {err.strerror}; pass the path of a YAML configuration file"
        ) from err
    return parse_yaml_config(cls, text, str(path), error)


def build_section(cls: type[T], data: Any, path: str, error: type[ConfigError] = ConfigError) -> T:
    """An instance of the dataclass ``cls`` from ``data`` found at ``path`` in the file ("" at the top)."""
    if not isinstance(data, Mapping):
        raise error(f"{path or 'the file'} must be a mapping of keys to values; got {_describe_value(data)}")
    hints = get_type_hints(cls)
    names = [f.name for f in yaml_fields(cls)]
    unknown = [key for key in data if key not in names]
    if unknown:
        raise error(
            f"{_join(path, str(unknown[0]))} is not a known key; expected keys under {path or 'the top level'}: {', '.join(names)}"
        )
    values = {}
    for field in yaml_fields(cls):
        key = _join(path, field.name)
        if field.name in data:
            values[field.name] = convert(hints[field.name], data[field.name], key, error, field.default)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise error(f"{key} is missing; expected {describe_type(hints[field.name])}")
    try:
        return cls(**values)
    except ValueError as err:  # a rule of __post_init__
        message = str(err)
        if path and not message.startswith(path):
            message = f"{path}: {message}"
        if isinstance(err, error) and message == str(err):
            raise
        raise error(message) from None


def convert(
    expected: Any,
    value: Any,
    key: str,
    error: type[ConfigError] = ConfigError,
    default: Any = dataclasses.MISSING,
) -> Any:
    """``value`` checked against the annotation ``expected`` (ints are accepted as floats).

    ``default`` (the field's default, when it has one) is offered as the fix of a wrong value.
    """
    origin = get_origin(expected)
    if dataclasses.is_dataclass(expected):
        return build_section(expected, value, key, error)
    if origin is Literal:
        if value not in get_args(expected):
            raise error(_mismatch(expected, value, key, default))
        return value
    if origin is tuple:
        return _convert_sequence(get_args(expected)[0], value, key, error, default)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in get_args(expected) if arg is not type(None)]
        if value is None:
            return None
        if (
            get_origin(inner[0]) is None
            and not dataclasses.is_dataclass(inner[0])
            and not _is_instance(inner[0], value)
        ):
            raise error(_mismatch(expected, value, key, default))
        return convert(inner[0], value, key, error, default)
    if not _is_instance(expected, value):
        raise error(_mismatch(expected, value, key, default))
    return float(value) if expected is float else value


def _convert_sequence(item_type: Any, value: Any, key: str, error: type[ConfigError], default: Any) -> tuple:
    if not isinstance(value, list):
        raise error(_mismatch(tuple[item_type, ...], value, key, default))
    return tuple(convert(item_type, item, f"{key}[{index}]", error) for index, item in enumerate(value))


def _mismatch(expected: Any, value: Any, key: str, default: Any) -> str:
    message = f"{key} must be {describe_type(expected)}; got {_describe_value(value)}"
    if default is dataclasses.MISSING:
        return message
    shown = "null" if default is None else list(default) if isinstance(default, tuple) else default
    return f"{message}; write {describe_type(expected)}, or remove the key to keep the default {shown}"


def _is_instance(expected: type, value: Any) -> bool:
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, expected)


def describe_type(expected: Any) -> str:
    """A plain-English name for an annotation, used in error messages."""
    origin = get_origin(expected)
    if dataclasses.is_dataclass(expected):
        return f"a mapping with keys {', '.join(f.name for f in yaml_fields(expected))}"
    if origin is Literal:
        return "one of " + ", ".join(repr(arg) for arg in get_args(expected))
    if origin is tuple:
        return f"a list of {describe_type(get_args(expected)[0])}"
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in get_args(expected) if arg is not type(None)]
        return f"{describe_type(inner[0])} or null"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(expected, getattr(expected, "__name__", str(expected)))


def _describe_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    return f"{type(value).__name__} {value!r}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
