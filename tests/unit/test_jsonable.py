"""to_jsonable: numpy, pandas and date values to plain JSON."""

from __future__ import annotations

import doctest
import json
import math
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

import riskmodel.jsonable
from riskmodel.jsonable import to_jsonable


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.float64(0.25), 0.25),
        (np.float32(0.5), 0.5),
        (np.int64(7), 7),
        (np.bool_(False), False),
        (math.nan, None),
        (np.float64("nan"), None),
        (math.inf, None),
        (-np.inf, None),
        (None, None),
        (pd.NA, None),
        (pd.NaT, None),
        (pd.Timestamp("2024-03-31 15:30"), "2024-03-31"),
        (date(2024, 1, 2), "2024-01-02"),
        (datetime(2024, 1, 2, 3, 4), "2024-01-02T03:04:00"),
        ("C1", "C1"),
        (12, 12),
    ],
    ids=[
        "float64",
        "float32",
        "int64",
        "bool_",
        "nan",
        "numpy-nan",
        "inf",
        "minus-inf",
        "none",
        "pd-na",
        "nat",
        "timestamp-day",
        "date",
        "datetime",
        "str",
        "int",
    ],
)
def test_scalars_become_plain_json(value: object, expected: object) -> None:
    result = to_jsonable(value)
    assert result == expected and type(result) is type(expected)


def test_containers_are_converted_recursively_with_string_keys() -> None:
    value = {
        1: [np.int64(1), (np.float64(np.nan), {"d": pd.Timestamp("2024-02-29")})],
        "a": np.array([1.5, np.inf]),
    }
    assert to_jsonable(value) == {"1": [1, [None, {"d": "2024-02-29"}]], "a": [1.5, None]}


def test_output_is_valid_strict_json() -> None:
    record = pd.DataFrame({"x": [np.nan], "n": pd.array([None], dtype="Int64"), "d": [pd.NaT]}).to_dict(
        "records"
    )
    assert json.loads(json.dumps(to_jsonable(record), allow_nan=False)) == [{"x": None, "n": None, "d": None}]


def test_dates_stay_dates_for_the_database() -> None:
    assert to_jsonable(pd.Timestamp("2024-03-31 10:00"), iso_dates=False) == date(2024, 3, 31)
    assert to_jsonable({"as_of": date(2024, 3, 31)}, iso_dates=False) == {"as_of": date(2024, 3, 31)}


def test_docstring_examples_run() -> None:
    result = doctest.testmod(riskmodel.jsonable, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0
