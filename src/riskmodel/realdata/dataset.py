"""What every public data-set adapter returns, how it reads its file, and the stratified hold-out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from riskmodel.exceptions import RealDataError, RealDataFileError
from riskmodel.features.definitions import Feature, Level
from riskmodel.ledger.tables import Ledger
from riskmodel.models.config import TrainConfig
from riskmodel.models.specs import ModelSpec, Target


@dataclass(frozen=True)
class RealDataSet:
    """A public data set as a training table the model code accepts.

    Attributes
    ----------
    spec : ModelSpec
        Name, key, target and level of the model trained on it (no date column).
    table : pd.DataFrame
        One row per key: the key column, the feature columns and the label column.
    features : tuple of Feature
        The feature columns with their direction (monotone constraint) and meaning.
    source : Path
        The file the table was read from.
    """

    spec: ModelSpec
    table: pd.DataFrame
    features: tuple[Feature, ...]
    source: Path

    @property
    def label(self) -> str:
        return self.spec.split_label

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]


def undated_spec(name: str, level: Level, key_column: str, target: Target, purpose: str) -> ModelSpec:
    """A :class:`ModelSpec` for a table without dates, trained with ``fit_model_on_split``."""

    def no_ledger_table(ledger: Ledger, as_of: object, config: TrainConfig) -> pd.DataFrame:
        raise RealDataError(f"{name} is read from its public file, not built from a ledger; use its loader")

    return ModelSpec(
        name=name,
        registered_name=f"riskmodel-{name.replace('_', '-')}",
        level=level,
        date_column="",
        key_column=key_column,
        targets=(target,),
        split_label=target.label,
        purpose=purpose,
        build_table=no_ledger_table,
    )


def data_set_feature(
    name: str,
    direction: int,
    en: str,
    zh: str,
    unit: str,
    group: str,
    level: Level,
    categorical: bool = False,
) -> Feature:
    """A feature that exists only in one public data set (computed by its adapter, read as a column)."""
    return Feature(
        name, name, "derived", group, unit, direction, en, zh, levels=(level,), categorical=categorical
    )


def resolve_file(path: str | Path, file_name: str) -> Path:
    """``path`` itself, or ``path / file_name`` when ``path`` is a folder.

    Raises
    ------
    RealDataFileError
        When the file does not exist.
    """
    path = Path(path)
    file = path / file_name if path.is_dir() else path
    if not file.is_file():
        raise RealDataFileError(
            f"{file}: no such file; pass the path of {file_name} or of the folder holding it"
        )
    return file


def read_checked_csv(file: Path, required: Sequence[str], numeric: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV file and check that it has every ``required`` column, the ``numeric`` ones as numbers.

    Raises
    ------
    RealDataError
        When the file cannot be parsed, lacks a required column or holds text in a numeric
        one (all offending columns are named).
    """
    try:
        frame = pd.read_csv(file)
    except (ValueError, OSError) as err:
        raise RealDataError(f"{file}: cannot be read as CSV ({err})") from err
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise RealDataError(f"{file}: missing column(s) {missing}; expected the columns {list(required)}")
    not_numeric = [column for column in numeric if not pd.api.types.is_numeric_dtype(frame[column])]
    if not_numeric:
        raise RealDataError(f"{file}: column(s) {not_numeric} must hold numbers only; fix or drop the rows")
    return frame


def check_values(file: Path, frame: pd.DataFrame, column: str, allowed: Sequence[object]) -> None:
    """Raise :class:`RealDataError` naming the first value of ``column`` outside ``allowed``."""
    bad = ~frame[column].isin(allowed)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise RealDataError(
            f"{file}: column {column!r} row {row + 1}: {frame[column].iloc[row]!r} is not one of {list(allowed)}"
        )


def stratified_holdout(
    table: pd.DataFrame, label: str, share: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``table`` into (rest, hold-out) with ``share`` of the rows held out, stratified by ``label``."""
    if not 0 < share < 1:
        raise ValueError(f"the hold-out share must be within (0, 1); got {share}")
    rest, holdout = train_test_split(table, test_size=share, stratify=table[label], random_state=seed)
    return rest.reset_index(drop=True), holdout.reset_index(drop=True)
