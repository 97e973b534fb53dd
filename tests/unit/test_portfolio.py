"""Portfolio tables on hand-made scores: grade shares, exposure by grade, migration and its summary."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from riskmodel.policy import AlertUpdate
from riskmodel.portfolio import (
    EXPOSURE_COLUMNS,
    exposure_by_grade,
    grade_distribution,
    migration_matrix,
    migration_summary,
)
from riskmodel.scoring import CustomerScores


def test_migration_matrix_counts_moves_new_and_gone_customers():
    previous = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "grade": [2, 2, 5, 7]})
    current = pd.DataFrame({"customer_id": ["a", "b", "c", "new"], "grade": [2, 4, 3, 9]})
    matrix = migration_matrix(previous, current)
    assert matrix.shape == (11, 11) and matrix.to_numpy().sum() == 5
    assert (matrix.index.name, matrix.columns.name) == ("previous grade", "grade")
    assert matrix.loc[2, 2] == 1 and matrix.loc[2, 4] == 1 and matrix.loc[5, 3] == 1
    assert matrix.loc[7, "not scored"] == 1 and matrix.loc["new", 9] == 1
    summary = migration_summary(matrix)
    assert summary == pytest.approx(
        {"stable": 1 / 3, "improved": 1 / 3, "worsened": 1 / 3, "mean_notches": 0.0, "not_graded": 0.25}
    )


def test_grade_distribution_gives_shares_by_grade_per_window():
    distribution = grade_distribution({"then": np.array([1, 1, 2, 10]), "now": np.array([3])})
    assert distribution.loc[1, "then"] == 0.5 and distribution.loc[10, "then"] == 0.25
    assert distribution["now"].sum() == 1.0 and distribution.loc[3, "now"] == 1.0


def test_exposure_lists_every_grade_and_a_total():
    scores = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "grade": [1, 1, 4],
            "current_limit": [100.0, 50.0, 80.0],
            "recommended_limit": [120.0, 50.0, 40.0],
        }
    )
    features = pd.DataFrame({"customer_id": ["a", "b", "c"], "open_balance": [10.0, np.nan, 30.0]})
    empty = pd.DataFrame()
    result = CustomerScores(date(2024, 6, 30), scores, empty, AlertUpdate(empty, empty), empty, features)
    table = exposure_by_grade(result).set_index("grade")
    assert list(table.reset_index().columns) == list(EXPOSURE_COLUMNS)
    assert table.index.tolist() == [*range(1, 11), "all"]
    assert table.loc[1, ["n_customers", "open_balance", "current_limit", "recommended_limit"]].tolist() == [
        2,
        10.0,
        150.0,
        170.0,
    ]
    assert table.loc[2, "n_customers"] == 0 and table.loc[4, "limit_change"] == -40.0
    assert table.loc["all", "n_customers"] == 3 and table.loc["all", "open_balance"] == 40.0
    assert table.loc[1, "share"] == pytest.approx(2 / 3)
