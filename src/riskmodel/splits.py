"""Snapshot calendars and out-of-time splits."""

from __future__ import annotations

from datetime import date

import pandas as pd


def month_ends(start: date, end: date) -> list[date]:
    """Month-end dates from the first month end on or after ``start`` to ``end`` inclusive."""
    return [d.date() for d in pd.date_range(start, end, freq="ME")]


def out_of_time_split(
    frame: pd.DataFrame, date_column: str, cutoff: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows dated on or before ``cutoff`` (development) and after it (out-of-time validation)."""
    dates = pd.to_datetime(frame[date_column])
    early = dates <= pd.Timestamp(cutoff)
    return frame.loc[early].reset_index(drop=True), frame.loc[~early].reset_index(drop=True)
