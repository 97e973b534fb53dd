"""Model validation: out-of-time rows rebuilt as training cut them, the statistics a validator signs off, and figures.

The validation notebook (``notebooks/02_model_validation.py``) and ``riskmodel report`` call
these functions; the ledger exploration notebook uses :mod:`riskmodel.validation.ledger_profile`.
"""

from riskmodel.validation.data import (
    ChampionRun,
    Contributions,
    OutOfTimeData,
    explain_rows,
    load_champion_run,
    rebuild_out_of_time,
    reproduction_checks,
)
from riskmodel.validation.stats import (
    RankedScores,
    discrimination_table,
    grade_calibration,
    migration_matrix,
    migration_summary,
)
from riskmodel.validation.summary import (
    benchmark_table,
    calibration_by_grade,
    discrimination_by_target,
    grade_distribution,
)

__all__ = [
    "ChampionRun",
    "RankedScores",
    "Contributions",
    "OutOfTimeData",
    "benchmark_table",
    "calibration_by_grade",
    "discrimination_by_target",
    "discrimination_table",
    "explain_rows",
    "grade_calibration",
    "grade_distribution",
    "load_champion_run",
    "migration_matrix",
    "migration_summary",
    "rebuild_out_of_time",
    "reproduction_checks",
]
