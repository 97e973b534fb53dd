"""Write result tables as CSV or Parquet, chosen by the file's extension."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskmodel.exceptions import OutputError

SUFFIXES = (".csv", ".parquet")


def check_output_path(path: str | Path) -> Path:
    """Fail early, before long work, when ``path`` has no supported extension or no writable folder."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise OutputError(f"--out {path}: use a file name ending in .csv or .parquet")
    if path.parent.exists() and not path.parent.is_dir():
        raise OutputError(f"--out {path}: {path.parent} is not a folder")
    return path


def write_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` (.csv or .parquet), creating the folder when needed."""
    path = check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    else:
        frame.to_parquet(path, index=False)
    return path
