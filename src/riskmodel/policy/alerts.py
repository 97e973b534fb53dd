"""Early-warning alerts for a portfolio or one customer, with alert memory.

Every rule is an array operation over the whole portfolio; the one-customer entry point
runs the same code on a one-row table, so the service and batch rescoring always agree.
An alert is identified by ``(customer_id, alert_type, key)`` — the key names the
invoice and tier, or the threshold — so a condition that persists is reported as
``open``, not raised again (``new``), and a previously open alert whose condition no longer
holds is ``resolved`` (DESIGN.md's alert life; officers' ``in_progress`` and ``dismissed`` are
kept by the results database).

Inputs
------
current
    One row per customer: ``customer_id``, ``pd_12m``, optionally ``grade`` (else derived
    from the master scale) and the feature columns the rules name.
open_invoices
    One row per open invoice: ``customer_id, invoice_id, days_past_due, open_amount`` and
    optionally ``is_disputed`` (may be empty, never omitted).
previous
    The last score per customer: ``customer_id, pd_12m`` and optionally ``grade`` (optional).
    PD-jump and downgrade alerts compare with it, so they close at the next score
    unless the change repeats.
open_alerts
    Alerts open before this evaluation, with at least ``customer_id, alert_type, key``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.jsonable import to_jsonable
from riskmodel.policy.collection import action_texts, collection_tier
from riskmodel.policy.columns import numeric_column
from riskmodel.policy.config import EXPECTED_LOSS, SEVERITY_LEVELS, Policy, ThresholdRule
from riskmodel.policy.texts import TEXTS, check_lang

IDENTITY = ["customer_id", "alert_type", "key"]
ALERT_COLUMNS = [*IDENTITY, "severity", "severity_level", "action", "action_text", "text", "facts", "status"]
INVOICE_COLUMNS = ("customer_id", "invoice_id", "days_past_due", "open_amount")
TOLERANCE = 1e-12


OPENED_COLUMNS = ("customer_id", "alert_type", "key", "severity", "facts", "action", "text")


@dataclass(frozen=True)
class AlertUpdate:
    """Result of an evaluation: alerts open now (``status`` ``new``, or ``open`` when raised before) and alerts ``resolved``."""

    open: pd.DataFrame
    closed: pd.DataFrame

    @property
    def new(self) -> pd.DataFrame:
        """Alerts raised by this evaluation."""
        return self.open[self.open["status"] == "new"]

    def records(self) -> list[dict[str, Any]]:
        """Open alerts as JSON-ready dicts (the ``alerts[]`` of a score response)."""
        return [to_jsonable(row) for row in self.open.to_dict("records")]

    def changes(
        self, as_of: date, run_id: str | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Alerts to store as opened (the new ones) and to mark resolved, dated ``as_of`` (``run_id``: the rescoring run, None for the service)."""
        opened = [
            {**row, "opened_as_of": as_of, "opened_run_id": run_id}
            for row in self.new[list(OPENED_COLUMNS)].astype(object).to_dict("records")
        ]
        closed = [
            {**row, "key": str(row["key"]), "closed_as_of": as_of, "closed_run_id": run_id}
            for row in self.closed[list(IDENTITY)].astype(object).to_dict("records")
        ]
        return opened, closed

    def has_severe(self, customer_ids: Sequence[str] | pd.Series) -> np.ndarray:
        """Whether each customer has an open severe alert (input of the limit review)."""
        severe = self.open.loc[self.open["severity"] == "severe", "customer_id"]
        return pd.Series(customer_ids).isin(severe).to_numpy()


@dataclass(frozen=True)
class _Inputs:
    current: pd.DataFrame
    previous_pd: np.ndarray
    previous_grade: np.ndarray
    invoices: pd.DataFrame
    lang: str
    held: np.ndarray  # identities of the open_alerts rows, in their order (threshold rules hold them)


Columns = dict[str, np.ndarray]
RAISED_COLUMNS = ("customer_id", "alert_type", "key", "severity", "action", "text", "facts")


def _raised(
    inputs: _Inputs,
    alert_type: str,
    customer_ids: Any,
    keys: Any,
    severity: Any,
    action: Any,
    facts: Mapping[str, Any],
    text_facts: Mapping[str, Any] | None = None,
) -> Columns:
    """Columns of raised alerts with their text; ``facts`` maps a fact's name to its values (one per alert).

    ``text_facts`` are values the text shows but the stored facts do not repeat (e.g. a list of invoice ids).
    """
    template = TEXTS[f"alert.{alert_type}"][inputs.lang]
    columns = [
        values if isinstance(values, list) else np.asarray(values).tolist() for values in facts.values()
    ]
    shown = {**facts, **(text_facts or {})}
    shown_columns = [*columns, *(list(values) for values in (text_facts or {}).values())]
    texts = [
        template.format(**dict(zip(shown, values, strict=True)))
        for values in zip(*shown_columns, strict=True)
    ]
    json_columns = [
        [None if value != value else value for value in column] for column in columns
    ]  # NaN: None
    records = [dict(zip(facts, values, strict=True)) for values in zip(*json_columns, strict=True)]
    n = len(records)
    values = (customer_ids, alert_type, keys, severity, action, texts, records)
    return {name: _repeat(value, n) for name, value in zip(RAISED_COLUMNS, values, strict=True)}


def _repeat(values: Any, n: int) -> np.ndarray:
    """``values`` as an object array of length ``n`` (a scalar is repeated)."""
    out = np.empty(n, dtype=object)
    out[:] = values if np.ndim(values) or isinstance(values, list) else [values] * n
    return out


def _pd_jump(policy: Policy, inputs: _Inputs) -> Columns:
    """PD rose since the last score by at least both the absolute and the relative amount."""
    rule = policy.alerts.pd_jump
    pd_now, pd_before = inputs.current["pd_12m"].to_numpy(dtype=float), inputs.previous_pd
    increase = pd_now - pd_before
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        relative = np.where(pd_before > 0, pd_now / pd_before - 1, np.inf)
    fires = (increase >= rule.min_absolute_increase - TOLERANCE) & (
        relative >= rule.min_relative_increase - TOLERANCE
    )
    facts = {
        "pd_12m": pd_now[fires],
        "previous_pd_12m": pd_before[fires],
        "absolute_increase": increase[fires],
        "relative_increase": relative[fires],
    }
    return _raised(
        inputs,
        "pd_jump",
        inputs.current["customer_id"].to_numpy()[fires],
        "pd_jump",
        rule.severity,
        rule.action,
        facts,
    )


def _grade_downgrade(policy: Policy, inputs: _Inputs) -> Columns:
    """Grade worsened by at least the configured notches since the last score."""
    rule = policy.alerts.grade_downgrade
    grade_now = inputs.current["grade"].to_numpy(dtype=float)
    notches = grade_now - inputs.previous_grade
    fires = notches >= rule.notches
    facts = {
        "grade": grade_now[fires].astype(int),
        "previous_grade": inputs.previous_grade[fires].astype(int),
        "notches": notches[fires].astype(int),
    }
    return _raised(
        inputs,
        "grade_downgrade",
        inputs.current["customer_id"].to_numpy()[fires],
        "grade_downgrade",
        rule.severity,
        rule.action,
        facts,
    )


def _threshold(alert_type: str, rule: ThresholdRule, inputs: _Inputs) -> Columns:
    """The highest level each value reaches; the key is that level's threshold.

    An alert already open at a level stays open (same key) while the value is at least
    ``hold_ratio`` of that level's threshold, so a value hovering at a threshold does not
    raise the alert again every time it crosses.
    """
    values = numeric_column(inputs.current, rule.feature, f"alerts.{alert_type}.feature")
    thresholds = np.array([level.threshold for level in rule.levels])
    level = np.searchsorted(thresholds, values + TOLERANCE, side="right") - 1
    customers = inputs.current["customer_id"].to_numpy(dtype=object)
    for index, threshold in enumerate(thresholds):
        keys = np.full(len(customers), f"{threshold:g}", dtype=object)
        open_now = _isin(
            _identity(customers, np.full(len(customers), alert_type, dtype=object), keys), inputs.held
        )
        held = open_now & (values >= threshold * rule.hold_ratio - TOLERANCE)
        level = np.where(held & (level < index), index, level)
    fires = ~np.isnan(values) & (level >= 0)
    fires &= inputs.current["pd_12m"].to_numpy(dtype=float) >= rule.min_pd_12m - TOLERANCE
    reached = level[fires]
    severities = np.array([lvl.severity for lvl in rule.levels], dtype=object)[reached]
    actions = np.array([lvl.action for lvl in rule.levels], dtype=object)[reached]
    keys = np.array([f"{t:g}" for t in thresholds], dtype=object)[reached]
    facts = {"value": values[fires], "threshold": thresholds[reached]}
    return _raised(
        inputs, alert_type, inputs.current["customer_id"].to_numpy()[fires], keys, severities, actions, facts
    )


def _pd_level(policy: Policy, inputs: _Inputs) -> Columns:
    """PD at or above a threshold."""
    return _threshold("pd_level", policy.alerts.pd_level, inputs)


def _expected_loss(policy: Policy, inputs: _Inputs) -> Columns:
    """Expected loss (12-month PD x the exposure feature) at or above a threshold."""
    return _threshold("expected_loss", policy.alerts.expected_loss, inputs)


def _utilisation(policy: Policy, inputs: _Inputs) -> Columns:
    """Limit utilisation at or above a threshold."""
    return _threshold("utilisation", policy.alerts.utilisation, inputs)


def _payment_trend(policy: Policy, inputs: _Inputs) -> Columns:
    """Recent days beyond terms above the longer history by at least the configured days."""
    rule = policy.alerts.payment_trend
    recent = numeric_column(inputs.current, rule.recent_feature, "alerts.payment_trend.recent_feature")
    history = numeric_column(inputs.current, rule.history_feature, "alerts.payment_trend.history_feature")
    increase = recent - history
    fires = (increase >= rule.min_increase_days - TOLERANCE) & (recent >= rule.min_recent_days - TOLERANCE)
    facts = {"recent_days": recent[fires], "history_days": history[fires], "increase_days": increase[fires]}
    return _raised(
        inputs,
        "payment_trend",
        inputs.current["customer_id"].to_numpy()[fires],
        "payment_trend",
        rule.severity,
        rule.action,
        facts,
    )


def _invoice_list(invoices: pd.DataFrame, shown: int = 5) -> str:
    """The first ``shown`` invoice ids of one customer, with the number left out."""
    ids = invoices["invoice_id"].tolist()
    rest = f", +{len(ids) - shown}" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + rest


def _per_customer(invoices: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The invoices grouped by customer, oldest first within each customer."""
    ordered = invoices.sort_values(
        ["customer_id", "days_past_due", "invoice_id"], ascending=[True, False, True]
    )
    return [(str(customer), group) for customer, group in ordered.groupby("customer_id", sort=True)]


def _invoice_facts(group: pd.DataFrame) -> list[dict[str, Any]]:
    """The invoices inside one alert: id, days past due and open amount, oldest first."""
    return [
        {"invoice_id": invoice, "days_past_due": int(days), "open_amount": float(amount)}
        for invoice, days, amount in zip(
            group["invoice_id"], group["days_past_due"], group["open_amount"], strict=True
        )
    ]


def _overdue_invoice(policy: Policy, inputs: _Inputs) -> Columns:
    """One alert per customer with undisputed open invoices in collection tier ``min_tier`` or above, listing them.

    The key is the highest tier reached, so the alert is raised again only when the
    customer's oldest overdue invoice climbs the ladder; severity and action are that tier's.
    Disputed invoices are left to the dispute rule when collection pauses.
    """
    invoices, tiers_config = inputs.invoices, policy.collection.tiers
    tiers = collection_tier(invoices["days_past_due"], policy.collection)
    fires = tiers >= policy.alerts.overdue_invoice.min_tier
    if policy.collection.pause_on_dispute:
        fires &= ~invoices["is_disputed"].to_numpy()
    groups = _per_customer(invoices[fires].assign(tier=tiers[fires]))
    top = np.array([int(group["tier"].max()) for _, group in groups], dtype=np.int64)
    thresholds = np.array([tier.min_days_past_due - 1 for tier in tiers_config], dtype=np.int64)[top - 1]
    facts = {
        "tier": top,
        "threshold": thresholds,
        "n_invoices": np.array([len(group) for _, group in groups], dtype=np.int64),
        "overdue_amount": np.array([float(group["open_amount"].sum()) for _, group in groups]),
        "oldest_days_past_due": np.array([int(group["days_past_due"].max()) for _, group in groups]),
        "invoices": [_invoice_facts(group) for _, group in groups],
    }
    severities = np.array([tier.severity for tier in tiers_config], dtype=object)[top - 1]
    actions = np.array([tier.action for tier in tiers_config], dtype=object)[top - 1]
    keys = np.array([f"over_{threshold}" for threshold in thresholds.tolist()], dtype=object)
    customers = np.array([customer for customer, _ in groups], dtype=object)
    listed = {"invoice_list": [_invoice_list(group) for _, group in groups]}
    return _raised(inputs, "overdue_invoice", customers, keys, severities, actions, facts, listed)


def _new_dispute(policy: Policy, inputs: _Inputs) -> Columns:
    """One alert per customer with open invoices in dispute, listing them (raised once, open while a dispute is)."""
    rule, invoices = policy.alerts.new_dispute, inputs.invoices
    groups = _per_customer(invoices[invoices["is_disputed"].to_numpy()])
    facts = {
        "n_invoices": np.array([len(group) for _, group in groups], dtype=np.int64),
        "disputed_amount": np.array([float(group["open_amount"].sum()) for _, group in groups]),
        "invoices": [_invoice_facts(group) for _, group in groups],
    }
    customers = np.array([customer for customer, _ in groups], dtype=object)
    listed = {"invoice_list": [_invoice_list(group) for _, group in groups]}
    return _raised(inputs, "new_dispute", customers, "disputes", rule.severity, rule.action, facts, listed)


def _in_default(policy: Policy, inputs: _Inputs) -> Columns:
    """Customers in default (``in_default`` in ``current``): one alert each, keyed by the default date."""
    rule, current = policy.alerts.in_default, inputs.current
    fires = _in_default_rows(current)
    known = (
        current["default_date"]
        if "default_date" in current.columns
        else pd.Series(pd.NaT, index=current.index)
    )
    dates = np.array([_iso(day) for day in pd.to_datetime(known)], dtype=object)[fires]
    return _raised(
        inputs,
        "in_default",
        current["customer_id"].to_numpy()[fires],
        dates,
        rule.severity,
        rule.action,
        {"default_date": dates},
    )


def _iso(day: Any) -> str:
    """A date as ``YYYY-MM-DD``, ``unknown`` when missing."""
    return "unknown" if pd.isna(day) else pd.Timestamp(day).date().isoformat()


def _in_default_rows(current: pd.DataFrame) -> np.ndarray:
    """Which rows of ``current`` are in default (none when it has no ``in_default`` column)."""
    if "in_default" not in current.columns:
        return np.zeros(len(current), dtype=bool)
    return current["in_default"].fillna(False).to_numpy(dtype=bool)


RULES: dict[str, Callable[[Policy, _Inputs], Columns]] = {
    "pd_jump": _pd_jump,
    "grade_downgrade": _grade_downgrade,
    "pd_level": _pd_level,
    "expected_loss": _expected_loss,
    "overdue_invoice": _overdue_invoice,
    "new_dispute": _new_dispute,
    "utilisation": _utilisation,
    "payment_trend": _payment_trend,
    "in_default": _in_default,
}


def _check_columns(frame: pd.DataFrame, required: Sequence[str], name: str) -> None:
    """Raise a ValueError naming the table and the columns it lacks."""
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {', '.join(missing)}; it needs {', '.join(required)}")


def _prepare(
    policy: Policy,
    current: pd.DataFrame,
    open_invoices: pd.DataFrame,
    previous: pd.DataFrame | None,
    open_alerts: pd.DataFrame | None,
    lang: str,
) -> _Inputs:
    """Validated inputs aligned on ``current``'s customers."""
    _check_columns(current, ("customer_id", "pd_12m"), "current")
    if current["customer_id"].duplicated().any():
        raise ValueError(
            f"current must have one row per customer_id; repeated: {current['customer_id'][current['customer_id'].duplicated()].iloc[0]!r}"
        )
    current = current.reset_index(drop=True)
    if "grade" not in current.columns:
        current = current.assign(grade=policy.grade(current["pd_12m"].to_numpy(dtype=float)))
    if policy.alerts.expected_loss.enabled and EXPECTED_LOSS not in current.columns:
        exposure_feature = policy.credit_limit.exposure_feature
        exposure = numeric_column(current, exposure_feature, "credit_limit.exposure_feature")
        current = current.assign(**{EXPECTED_LOSS: current["pd_12m"].to_numpy(dtype=float) * exposure})
    _check_columns(open_invoices, INVOICE_COLUMNS, "open_invoices")
    invoices = open_invoices[_isin(open_invoices["customer_id"], current["customer_id"])]
    disputed = invoices["is_disputed"].fillna(False).astype(bool) if "is_disputed" in invoices else False
    invoices = invoices.assign(
        is_disputed=disputed, invoice_id=invoices["invoice_id"].astype(str)
    ).reset_index(drop=True)
    previous_pd = previous_grade = np.full(len(current), np.nan)
    if previous is not None:
        previous_pd, previous_grade = _previous_scores(policy, previous, current["customer_id"])
    held = np.empty(0, dtype=object)
    if open_alerts is not None and not open_alerts.empty:
        _check_columns(open_alerts, IDENTITY, "open_alerts")
        held = _identity(*(open_alerts[name].astype(str).to_numpy(dtype=object) for name in IDENTITY))
    return _Inputs(current, previous_pd, previous_grade, invoices, lang, held)


def _previous_scores(
    policy: Policy, previous: pd.DataFrame, customers: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Last PD and grade of each customer (NaN where none); the grade is derived from the PD when absent."""
    _check_columns(previous, ("customer_id", "pd_12m"), "previous")
    if "grade" not in previous.columns:
        previous = previous.assign(grade=policy.grade(previous["pd_12m"].to_numpy(dtype=float)))
    aligned = previous.drop_duplicates("customer_id", keep="last").set_index("customer_id").reindex(customers)
    return aligned["pd_12m"].to_numpy(dtype=float), aligned["grade"].to_numpy(dtype=float)


def _identity(customer_ids: np.ndarray, alert_types: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """One string per alert identifying (customer_id, alert_type, key)."""
    return np.array(
        [
            f"{c}\x1f{t}\x1f{k}"
            for c, t, k in zip(customer_ids.tolist(), alert_types.tolist(), keys.tolist(), strict=True)
        ],
        dtype=object,
    )


def _isin(values: Any, reference: Any) -> np.ndarray:
    """Hash lookup of ``values`` in ``reference`` (faster than ``Series.isin`` on Arrow strings)."""
    return pd.Index(reference).drop_duplicates().get_indexer(values) >= 0


def _remember(
    raised: Columns, open_alerts: pd.DataFrame | None, held: np.ndarray, customers: pd.Series
) -> tuple[np.ndarray, pd.DataFrame]:
    """Status (``new``, or ``open`` when already open) of each raised alert, and earlier alerts of these customers whose condition is gone (``resolved``).

    ``held`` holds the identities of the ``open_alerts`` rows (:class:`_Inputs`).
    """
    if open_alerts is None or open_alerts.empty:
        return np.full(len(raised["key"]), "new", dtype=object), pd.DataFrame(columns=ALERT_COLUMNS)
    evaluated = _isin(open_alerts["customer_id"], customers)
    known, known_ids = open_alerts[evaluated], held[evaluated]
    raised_ids = _identity(raised["customer_id"], raised["alert_type"], raised["key"])
    status = np.where(_isin(raised_ids, known_ids), "open", "new").astype(object)
    closed = known[~_isin(known_ids, raised_ids)].assign(status="resolved")
    return status, closed.reset_index(drop=True)


def evaluate_alerts(
    policy: Policy,
    current: pd.DataFrame,
    open_invoices: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    open_alerts: pd.DataFrame | None = None,
    lang: str = "en",
) -> AlertUpdate:
    """Evaluate every enabled early-warning rule over a portfolio (see the module docstring for inputs).

    Returns
    -------
    AlertUpdate
        ``open``: one row per alert now open (columns ``ALERT_COLUMNS``; ``status`` ``new`` or
        ``open``), sorted by customer, most severe first; ``closed``: the rows of ``open_alerts``
        whose condition is gone (``status`` ``resolved``).
    """
    check_lang(lang)
    inputs = _prepare(policy, current, open_invoices, previous, open_alerts, lang)
    parts = [rule(policy, inputs) for name, rule in RULES.items() if getattr(policy.alerts, name).enabled]
    raised = {
        name: np.concatenate([part[name] for part in parts]) if parts else np.empty(0, dtype=object)
        for name in RAISED_COLUMNS
    }
    raised["key"] = np.array([str(key) for key in raised["key"]], dtype=object)
    if policy.alerts.in_default.enabled:  # a customer in default has that one alert, not every symptom of it
        defaulted = inputs.current["customer_id"].to_numpy()[_in_default_rows(inputs.current)]
        keep = (raised["alert_type"] == "in_default") | ~_isin(raised["customer_id"], defaulted)
        raised = {name: values[keep] for name, values in raised.items()}
    raised["severity_level"] = np.array(
        [SEVERITY_LEVELS[severity] for severity in raised["severity"]], dtype=np.int64
    )
    raised["action_text"] = action_texts(raised["action"], lang)
    raised["status"], closed = _remember(raised, open_alerts, inputs.held, inputs.current["customer_id"])
    order = np.lexsort(
        (raised["key"], raised["alert_type"], -raised["severity_level"], raised["customer_id"])
    )
    frame = pd.DataFrame({name: raised[name][order] for name in ALERT_COLUMNS})
    return AlertUpdate(open=frame, closed=closed)


def evaluate_customer_alerts(
    policy: Policy,
    customer_id: str,
    features: Mapping[str, Any] | pd.Series,
    pd_12m: float,
    open_invoices: pd.DataFrame | Sequence[Mapping[str, Any]],
    previous: Mapping[str, Any] | None = None,
    open_alerts: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    lang: str = "en",
) -> AlertUpdate:
    """Alerts of one customer: the portfolio evaluation run on a one-row table.

    ``previous`` is the last score (``pd_12m`` and optionally ``grade``) or None;
    ``open_invoices`` and ``open_alerts`` may be lists of dicts.
    """
    current = pd.DataFrame([{**dict(features), "customer_id": customer_id, "pd_12m": pd_12m}])
    invoices = _as_frame(open_invoices, INVOICE_COLUMNS).assign(customer_id=customer_id)
    last = None if previous is None else pd.DataFrame([{**dict(previous), "customer_id": customer_id}])
    known = None if open_alerts is None else _as_frame(open_alerts, IDENTITY)
    return evaluate_alerts(policy, current, invoices, last, known, lang)


def _as_frame(rows: pd.DataFrame | Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame from a frame or a list of dicts; an empty list gives an empty frame with ``columns``."""
    if isinstance(rows, pd.DataFrame):
        return rows
    rows = list(rows)
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(columns))
