"""Build frozen dataclasses from a parsed YAML mapping, naming the key on every error.

Types come from the dataclass annotations: ``bool``, ``int``, ``float``, ``str``,
``Literal[...]``, ``tuple[X, ...]`` and nested dataclasses. Fields whose metadata has
``yaml=False`` are not read from the mapping. Range and ordering rules live in each
dataclass's ``__post_init__``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from riskmodel.exceptions import PolicyError

T = TypeVar("T")


def yaml_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of ``cls`` that the YAML file sets."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("yaml", True)]


def build_section(cls: type[T], data: Any, path: str) -> T:
    """An instance of the dataclass ``cls`` from ``data`` found at ``path`` in the policy file."""
    if not isinstance(data, Mapping):
        raise PolicyError(
            f"{path or 'the policy file'} must be a mapping of keys to values; got {_describe_value(data)}"
        )
    hints = get_type_hints(cls)
    names = [f.name for f in yaml_fields(cls)]
    unknown = [key for key in data if key not in names]
    if unknown:
        raise PolicyError(
            f"{_join(path, str(unknown[0]))} is not a known key; expected keys under {path or 'the top level'}: {', '.join(names)}"
        )
    values = {}
    for field in yaml_fields(cls):
        key = _join(path, field.name)
        if field.name in data:
            values[field.name] = convert(hints[field.name], data[field.name], key)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise PolicyError(f"{key} is missing; expected {describe_type(hints[field.name])}")
    try:
        return cls(**values)
    except PolicyError as err:
        if not path or str(err).startswith(path):
            raise
        raise PolicyError(f"{path}: {err}") from None


def convert(expected: Any, value: Any, key: str) -> Any:
    """``value`` checked against the annotation ``expected`` (ints are accepted as floats)."""
    origin = get_origin(expected)
    if dataclasses.is_dataclass(expected):
        return build_section(expected, value, key)
    if origin is Literal:
        if value not in get_args(expected):
            raise PolicyError(f"{key} must be {describe_type(expected)}; got {_describe_value(value)}")
        return value
    if origin is tuple:
        return _convert_sequence(get_args(expected)[0], value, key)
    if origin in (typing.Union, types.UnionType):
        return _convert_optional(expected, value, key)
    if not _is_instance(expected, value):
        raise PolicyError(f"{key} must be {describe_type(expected)}; got {_describe_value(value)}")
    return float(value) if expected is float else value


def _convert_sequence(item_type: Any, value: Any, key: str) -> tuple:
    if not isinstance(value, list):
        raise PolicyError(f"{key} must be a list of {describe_type(item_type)}; got {_describe_value(value)}")
    return tuple(convert(item_type, item, f"{key}[{index}]") for index, item in enumerate(value))


def _convert_optional(expected: Any, value: Any, key: str) -> Any:
    inner = [arg for arg in get_args(expected) if arg is not type(None)]
    if value is None:
        return None
    return convert(inner[0], value, key)


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
