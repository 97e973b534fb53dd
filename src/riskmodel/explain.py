"""Reason codes: the few features that raise a score most, in a credit officer's words.

Input is a contributions matrix in raw-score space, such as LightGBM's
``Booster.predict(X, pred_contrib=True)`` without its last (bias) column: row ``i`` plus
the bias adds up to the raw score of row ``i``. Related features are grouped by the
feature registry's ``group`` (their contributions summed) so that one behaviour — say,
payment delay over three windows — gives one reason, told by its largest feature.

Everything runs as array operations over the batch; only the final list of dicts is
built row by row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskmodel.features.definitions import Feature, build_registry
from riskmodel.jsonable import to_jsonable
from riskmodel.policy.texts import check_lang, format_feature_value, render

REASON_COLUMNS = [
    "row",
    "rank",
    "group",
    "feature",
    "value",
    "contribution",
    "comparison",
    "direction",
    "description",
    "unit",
]
MEMBER_SHOWN = 1e-6  # a feature's own contribution is listed inside its reason when at least this large


def split_contributions(pred_contrib: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Split LightGBM ``pred_contrib`` output of shape (n, F + 1) into contributions (n, F) and the bias (n,)."""
    matrix = np.asarray(pred_contrib, dtype=float)
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        raise ValueError(f"pred_contrib output must have shape (n_rows, n_features + 1); got {matrix.shape}")
    return matrix[:, :-1], matrix[:, -1]


def comparison_points(values: pd.DataFrame) -> pd.Series:
    """Median of every numeric column: the portfolio comparison point of each feature."""
    return values.select_dtypes("number").median()


def _group_features(
    feature_names: Sequence[str], registry: Sequence[Feature], lang: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(group index, group names, description and unit of each feature); unknown names stand for themselves."""
    known = {feature.name: feature for feature in registry}
    groups = [known[name].group if name in known else name for name in feature_names]
    descriptions = [getattr(known[name], lang) if name in known else name for name in feature_names]
    units = [known[name].unit if name in known else "" for name in feature_names]
    group_names, group_index = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    return group_index, group_names, np.asarray(descriptions, dtype=object), np.asarray(units, dtype=object)


def _dominant_features(
    contributions: np.ndarray, group_sums: np.ndarray, group_index: np.ndarray
) -> np.ndarray:
    """For each row and group, the member feature pushing hardest in the direction of the group's sum, shape (n, G)."""
    dominant = np.empty(group_sums.shape, dtype=np.int64)
    for group in range(group_sums.shape[1]):
        members = np.flatnonzero(group_index == group)
        sign = np.where(group_sums[:, group] >= 0, 1.0, -1.0)[:, None]
        dominant[:, group] = members[np.argmax(contributions[:, members] * sign, axis=1)]
    return dominant


def _gather_values(
    values: pd.DataFrame, feature_names: Sequence[str], rows: np.ndarray, features: np.ndarray
) -> np.ndarray:
    """Value of ``features[i]`` in row ``rows[i]``, column by column."""
    out = np.empty(len(rows), dtype=object)
    for feature, positions in pd.Series(features).groupby(features).indices.items():
        column = values[feature_names[feature]].to_numpy()
        out[positions] = column[rows[positions]].tolist()
    return out


def _directions(values: np.ndarray, comparisons: np.ndarray) -> np.ndarray:
    """'higher', 'lower' or 'equal' than the comparison point; None where either is missing or not a number."""
    value = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)
    point = pd.to_numeric(pd.Series(comparisons, dtype=object), errors="coerce").to_numpy(dtype=float)
    return np.select(
        [value > point, value < point, value == point], ["higher", "lower", "equal"], default=None
    ).astype(object)


def _check_inputs(
    contributions: np.ndarray, feature_names: Sequence[str], values: pd.DataFrame, top_n: int
) -> None:
    if contributions.ndim != 2 or contributions.shape[1] != len(feature_names):
        raise ValueError(
            f"contributions must have shape (n_rows, {len(feature_names)}) to match feature_names; got {contributions.shape}. "
            "LightGBM pred_contrib output has an extra bias column: use split_contributions() first"
        )
    if len(values) != contributions.shape[0]:
        raise ValueError(
            f"values must have one row per contributions row ({contributions.shape[0]}); got {len(values)}"
        )
    missing = [name for name in feature_names if name not in values.columns]
    if missing:
        raise ValueError(
            f"values lacks the feature column(s) {', '.join(missing[:5])}; pass the feature table the model scored"
        )
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1; got {top_n}")


def reason_table(
    contributions: npt.ArrayLike,
    feature_names: Sequence[str],
    values: pd.DataFrame,
    comparison: Mapping[str, Any] | pd.Series | None = None,
    top_n: int = 4,
    lang: str = "en",
    risk_raising_only: bool = True,
    registry: Sequence[Feature] | None = None,
    min_contribution: float = 0.0,
) -> pd.DataFrame:
    """Reasons of every row as a long table (columns ``REASON_COLUMNS``), ``rank`` 1 the strongest.

    Parameters
    ----------
    contributions
        Array of shape (n_rows, n_features) in raw-score (log-odds) space, bias column removed.
    feature_names
        Name of each contributions column.
    values
        The feature values the model scored, one row per contributions row (positional).
    comparison
        Comparison point of each feature (e.g. portfolio medians); missing names give None.
    top_n
        At most this many reasons per row.
    lang
        ``"en"`` or ``"zh"`` for the descriptions.
    risk_raising_only
        Keep only groups that raise the score, largest first (default); otherwise rank
        groups by absolute contribution.
    registry
        Features to describe and group by; defaults to the registry with default windows.
    min_contribution
        A group whose contribution (log-odds, absolute) is below this gives no reason.
    """
    check_lang(lang)
    contributions = np.asarray(contributions, dtype=float)
    _check_inputs(contributions, feature_names, values, top_n)
    group_index, group_names, descriptions, units = _group_features(
        feature_names, registry or build_registry(), lang
    )
    one_hot = np.zeros((len(feature_names), len(group_names)))
    one_hot[np.arange(len(feature_names)), group_index] = 1.0
    group_sums = contributions @ one_hot
    strength = np.where(group_sums > 0, group_sums, 0.0) if risk_raising_only else np.abs(group_sums)
    kept = min(top_n, len(group_names))
    order = np.argsort(-strength, axis=1, kind="stable")[:, :kept]
    strongest = np.take_along_axis(strength, order, axis=1)
    valid = ((strongest > 0) & (strongest >= min_contribution)).ravel()
    rows = np.repeat(np.arange(len(contributions)), kept)[valid]
    groups = order.ravel()[valid]
    features = _dominant_features(contributions, group_sums, group_index)[rows, groups]
    points = pd.Series(comparison if comparison is not None else {}, dtype=object)
    point_of_feature = points.reindex(list(feature_names)).to_numpy(dtype=object)
    found = _gather_values(values, feature_names, rows, features)
    return pd.DataFrame(
        {
            "row": rows,
            "rank": np.tile(np.arange(1, kept + 1), len(contributions))[valid],
            "group": group_names[groups],
            "feature": np.asarray(feature_names, dtype=object)[features],
            "value": pd.Series(found, dtype=object),
            "contribution": group_sums[rows, groups],
            "comparison": pd.Series(point_of_feature[features], dtype=object),
            "direction": pd.Series(_directions(found, point_of_feature[features]), dtype=object),
            "description": descriptions[features],
            "unit": units[features],
        }
    )


def reason_codes(
    contributions: npt.ArrayLike,
    feature_names: Sequence[str],
    values: pd.DataFrame,
    comparison: Mapping[str, Any] | pd.Series | None = None,
    top_n: int = 4,
    lang: str = "en",
    risk_raising_only: bool = True,
    registry: Sequence[Feature] | None = None,
    min_contribution: float = 0.0,
) -> list[list[dict[str, Any]]]:
    """Per row, at most ``top_n`` reasons as JSON-ready dicts, largest risk-raising first.

    Each reason has ``feature, value, contribution, description`` (the ``reasons[]`` of
    DESIGN.md) and ``group, comparison, direction``; ``value_text`` and ``comparison_text``
    format the values by the feature's unit ("12,300", "45 days", "37%", "not provided");
    ``members`` lists each feature of the group with its own contribution, largest first.
    See :func:`reason_table` for the parameters.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> values = pd.DataFrame({"max_days_past_due": [75.0], "bureau_score": [610.0]})
    >>> reasons = reason_codes(np.array([[0.8, 0.3]]), list(values.columns), values, {"max_days_past_due": 0.0})
    >>> [(r["feature"], r["value"], r["direction"]) for r in reasons[0]]
    [('max_days_past_due', 75.0, 'higher'), ('bureau_score', 610.0, None)]
    """
    registry = registry or build_registry()
    table = reason_table(
        contributions,
        feature_names,
        values,
        comparison,
        top_n,
        lang,
        risk_raising_only,
        registry,
        min_contribution,
    )
    matrix = np.asarray(contributions, dtype=float)
    group_index = _group_features(feature_names, registry, lang)[0]
    members_of = {name: np.flatnonzero(group_index == group_index[k]) for k, name in enumerate(feature_names)}
    names = np.asarray(feature_names, dtype=object)
    index_of = {name: i for i, name in enumerate(feature_names)}
    reasons: list[list[dict[str, Any]]] = [[] for _ in range(len(values))]
    columns = [table[name].to_numpy(dtype=object) for name in REASON_COLUMNS[2:]]
    for row, *fields in zip(table["row"].tolist(), *columns, strict=True):
        group, feature, value, contribution, point, direction, description, unit = fields
        members = members_of[feature]
        own = matrix[row, members]
        listed = [
            {"feature": names[i], "contribution": float(c)}
            for i, c in sorted(zip(members.tolist(), own.tolist(), strict=True), key=lambda p: -abs(p[1]))
            if abs(c) >= MEMBER_SHOWN
        ]
        value = to_jsonable(value)
        point = to_jsonable(point)
        reasons[row].append(
            {
                "feature": feature,
                "value": value,
                "value_text": format_feature_value(value, unit, lang),
                "contribution": float(contribution),
                "description": description,
                "group": group,
                "comparison": point,
                "comparison_text": None if point is None else format_feature_value(point, unit, lang),
                "direction": to_jsonable(direction),
                "members": listed
                or [{"feature": feature, "contribution": float(matrix[row, index_of[feature]])}],
            }
        )
    return reasons


def default_trigger_reasons(state: pd.DataFrame, lang: str = "en") -> list[list[dict[str, Any]]]:
    """One ``default_trigger`` reason per row of a default-state table, empty for rows not in default.

    ``state`` has the columns of :func:`riskmodel.labels.default_state` (``default_date`` NaT
    where not in default). The reason names the trigger that began the default (invoice,
    date, amount, or event); its ``contribution`` is 0 because ``pd_12m`` is 1 by rule, not by the model.
    """
    check_lang(lang)
    reasons: list[list[dict[str, Any]]] = [[] for _ in range(len(state))]
    columns = ["default_date", "trigger_type", "invoice_id", "days_past_due", "open_amount"]
    for row, record in enumerate(state[columns].to_dict("records")):
        if pd.isna(record["default_date"]):
            continue
        day = pd.Timestamp(record["default_date"]).date().isoformat()
        kind = str(record["trigger_type"])
        if kind.startswith("invoice_"):
            value = render(
                f"default.trigger.{kind}",
                lang,
                invoice_id=record["invoice_id"],
                days_past_due=int(record["days_past_due"]),
                date=day,
                open_amount=float(record["open_amount"]),
            )
        else:
            event = render(f"default.event.{kind}", lang)
            value = render("default.trigger.event", lang, event=event, date=day)
        reasons[row].append(
            {
                "feature": "default_trigger",
                "value": value,
                "contribution": 0.0,
                "description": render("default.description", lang, date=day),
                "group": "default",
                "comparison": None,
                "direction": None,
            }
        )
    return reasons
