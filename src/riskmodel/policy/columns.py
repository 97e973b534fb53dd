"""Reading the feature columns a policy rule names, with errors that name the rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.exceptions import PolicyError


def numeric_column(frame: pd.DataFrame, name: str, key: str) -> np.ndarray:
    """Column ``name`` as floats (missing values NaN); ``key`` is the policy key that names it."""
    if name not in frame.columns:
        raise PolicyError(
            f"{key} names the column '{name}', which the input table lacks; add the column or change {key} in the policy file"
        )
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def optional_numeric_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Column ``name`` as floats, or all NaN when the table has no such column (data not collected)."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
