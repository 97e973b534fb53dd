"""Targets of the three models (DESIGN.md "Targets"), with censoring at the end of the data, and the default state.

Default is a state: :func:`default_state` says who is in default at a date, since when and
why (the trigger), and who has cured; the default labels and the scoring path both use it.

Every function takes ``data_end``: the last day whose outcomes are known. Training at
``--as-of D`` truncates the ledger at D and uses ``data_end = D``, so labels never use
outcomes observed after the training date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from riskmodel.duck import duckdb_cursor
from riskmodel.exceptions import ConfigError
from riskmodel.ledger.tables import Ledger

LATE_THRESHOLDS_DAYS: tuple[int, ...] = (0, 30, 60, 90)
DEFAULT_DPD = 90
DEFAULT_EVENT_TYPES: tuple[str, ...] = ("bankruptcy", "legal_action", "write_off")


@dataclass(frozen=True)
class DefaultDefinition:
    """The configurable part of DESIGN.md's default definition (the policy's ``default`` section).

    Attributes
    ----------
    dispute_hold_days
        A dispute raised by 90 days past due holds its invoice's trigger until this many
        days past due; the invoice, still unpaid the day after, triggers default.
    cure_months
        Months after the last trigger ends (an event's date, or the day the last invoice
        90+ days past due is paid or written off) after which the customer has cured.
    """

    dispute_hold_days: int = 180
    cure_months: int = 6

    def __post_init__(self) -> None:
        if self.dispute_hold_days < DEFAULT_DPD:
            raise ConfigError(
                f"default.dispute_hold_days must be at least {DEFAULT_DPD} (the trigger it holds); "
                f"got {self.dispute_hold_days}; set it to {DEFAULT_DPD} or more"
            )
        if self.cure_months < 1:
            raise ConfigError(
                f"default.cure_months must be at least 1; got {self.cure_months}; set the months a "
                "customer must stay clean after its last trigger"
            )


TRIGGER_COLUMNS = (
    "customer_id",
    "trigger_type",
    "trigger_date",
    "end_date",
    "invoice_id",
    "days_past_due",
    "open_amount",
)
STATE_COLUMNS = (
    "customer_id",
    "in_default",
    "default_date",
    "cure_date",
    "trigger_type",
    "invoice_id",
    "days_past_due",
    "open_amount",
)


def default_triggers(
    ledger: Ledger, as_of: date, definition: DefaultDefinition = DefaultDefinition()
) -> pd.DataFrame:
    """Every default trigger on or before ``as_of``, one row each (columns ``TRIGGER_COLUMNS``).

    ``trigger_type`` is ``invoice_past_due`` (an invoice still unpaid the day it becomes
    91 days past due, or ``dispute_hold_days`` + 1 when it was disputed by 90 days past
    due), ``invoice_written_off``, or the event type (bankruptcy, legal action, write-off).
    ``end_date`` is when the trigger stopped holding: the event's own date, or the day the
    past-due invoice was settled or written off; NaT when it still holds at ``as_of``.
    ``open_amount`` is what the invoice still owed the day before the trigger.
    """
    with duckdb_cursor() as con:
        con.register("invoices", ledger.invoices)
        con.register("payments", ledger.payments)
        con.register("events", ledger.events)
        event_types = ", ".join(f"'{t}'" for t in DEFAULT_EVENT_TYPES)
        frame = con.execute(
            f"""
            WITH held AS (
                SELECT *, CASE WHEN dispute_date <= due_date + {DEFAULT_DPD} THEN $hold
                               ELSE {DEFAULT_DPD} END AS held_days
                FROM invoices
            ), invoice_triggers AS (
                SELECT customer_id, 'invoice_past_due' AS trigger_type,
                       due_date + held_days + 1 AS trigger_date,
                       least(coalesce(settled_date, DATE '9999-12-31'),
                             coalesce(written_off_date, DATE '9999-12-31')) AS closed_date,
                       invoice_id, held_days + 1 AS days_past_due, amount
                FROM held
                WHERE due_date + held_days + 1 <= $as_of
                  AND coalesce(settled_date > due_date + held_days, true)
                  AND coalesce(written_off_date > due_date + held_days, true)
                UNION ALL
                SELECT customer_id, 'invoice_written_off', written_off_date, written_off_date,
                       invoice_id, date_diff('day', due_date, written_off_date), amount
                FROM invoices WHERE written_off_date <= $as_of
            ), paid AS (
                SELECT t.invoice_id, t.trigger_type, sum(p.amount) AS paid
                FROM invoice_triggers t
                JOIN payments p ON p.invoice_id = t.invoice_id AND p.payment_date < t.trigger_date
                GROUP BY t.invoice_id, t.trigger_type
            ), opened AS (
                SELECT t.customer_id, t.trigger_type, t.trigger_date,
                       CASE WHEN t.closed_date <= $as_of THEN t.closed_date END AS end_date,
                       t.invoice_id, t.days_past_due,
                       greatest(t.amount - coalesce(p.paid, 0), 0) AS open_amount
                FROM invoice_triggers t LEFT JOIN paid p USING (invoice_id, trigger_type)
            )
            SELECT customer_id, trigger_type, trigger_date, end_date, invoice_id,
                   CAST(days_past_due AS BIGINT) AS days_past_due, CAST(open_amount AS DOUBLE) AS open_amount
            FROM opened
            UNION ALL
            SELECT customer_id, type, date, date, NULL, NULL, NULL
            FROM events WHERE type IN ({event_types}) AND date <= $as_of
            """,
            {"as_of": as_of, "hold": definition.dispute_hold_days},
        ).df()
    for column in ("trigger_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame[list(TRIGGER_COLUMNS)]


def _cure_dates(triggers: pd.DataFrame, definition: DefaultDefinition) -> pd.Series:
    """First day each trigger no longer keeps its customer in default; NaT while it still holds."""
    ended = triggers["end_date"]
    cure = pd.Series(pd.NaT, index=triggers.index, dtype="datetime64[ns]")
    known = ended.notna()
    if known.any():
        cure[known] = ended[known] + pd.DateOffset(months=definition.cure_months)
    return cure


def default_state(
    ledger: Ledger, as_of: date, definition: DefaultDefinition = DefaultDefinition()
) -> pd.DataFrame:
    """Default state at the end of ``as_of`` of every customer with a trigger by then (columns ``STATE_COLUMNS``).

    A customer is in default at ``as_of`` iff it has a trigger (:func:`default_triggers`) on
    or before ``as_of`` and has not cured by ``as_of``: it cures on ``cure_date``, which is
    ``cure_months`` after its last trigger stopped holding (NaT while one still holds, e.g.
    an invoice 90+ days past due still unpaid). ``default_date`` is the day the current
    default began (the first trigger after the last cure) and ``trigger_type``,
    ``invoice_id``, ``days_past_due``, ``open_amount`` describe that trigger. Customers with
    triggers who have cured are kept with ``in_default`` False; customers without one are absent.
    Only facts known by ``as_of`` are used, so the state equals that of the ledger truncated at ``as_of``.
    """
    triggers = default_triggers(ledger, as_of, definition)
    if triggers.empty:  # most customers scored alone: no trigger, nothing to work out
        return pd.DataFrame(
            {
                "customer_id": triggers["customer_id"],
                "in_default": pd.Series(dtype=bool),
                "default_date": triggers["trigger_date"],
                "cure_date": pd.Series(dtype="datetime64[ns]"),
                **{c: triggers[c] for c in ("trigger_type", "invoice_id", "days_past_due", "open_amount")},
            }
        )[list(STATE_COLUMNS)]
    triggers = triggers.sort_values(
        ["customer_id", "trigger_date", "trigger_type", "invoice_id"], kind="stable", na_position="first"
    ).reset_index(drop=True)
    never = pd.Timestamp.max.normalize()
    cure = _cure_dates(triggers, definition).fillna(never)
    by_customer = cure.groupby(triggers["customer_id"])
    cured_before = by_customer.cummax().groupby(triggers["customer_id"]).shift()
    starts_spell = cured_before.isna() | (triggers["trigger_date"] >= cured_before)
    spell = starts_spell.groupby(triggers["customer_id"]).cumsum()
    last_spell = spell == spell.groupby(triggers["customer_id"]).transform("max")
    entry = triggers[last_spell & starts_spell].set_index("customer_id")
    cure_date = by_customer.max().reindex(entry.index)
    state = pd.DataFrame(
        {
            "customer_id": entry.index.to_numpy(),
            "in_default": (cure_date > pd.Timestamp(as_of)).to_numpy(),
            "default_date": entry["trigger_date"].to_numpy(),
            "cure_date": cure_date.where(cure_date < never).to_numpy(),
            "trigger_type": entry["trigger_type"].to_numpy(),
            "invoice_id": entry["invoice_id"].to_numpy(),
            "days_past_due": entry["days_past_due"].to_numpy(),
            "open_amount": entry["open_amount"].to_numpy(),
        }
    )
    return state[list(STATE_COLUMNS)]


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months (month-end safe)."""
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


def make_default_labels(
    ledger: Ledger,
    snapshots: pd.DataFrame,
    data_end: date,
    horizon_months: int = 12,
    definition: DefaultDefinition = DefaultDefinition(),
) -> pd.DataFrame:
    """``label_default_12m`` for (customer_id, as_of) snapshots: a new default within the horizon.

    A customer in default at ``as_of`` (:func:`default_state`) is left out; one that has
    cured is labelled again. The label is 1 when a trigger falls after ``as_of`` and
    within ``horizon_months`` (for a customer not in default, any trigger starts a new default).

    Returns
    -------
    pd.DataFrame
        The snapshots that can be labelled, with ``label_default_12m`` in {0, 1}. Snapshots
        whose horizon runs past ``data_end`` without a default are censored (left out).
    """
    triggers = default_triggers(ledger, data_end, definition)
    frame = snapshots[["customer_id", "as_of"]].copy()
    as_of = pd.to_datetime(frame["as_of"]).reset_index(drop=True)
    horizon_end = as_of + pd.DateOffset(months=horizon_months)
    pairs = pd.DataFrame(
        {"row": np.arange(len(frame)), "customer_id": frame["customer_id"].to_numpy(), "as_of": as_of}
    ).merge(
        triggers[["customer_id", "trigger_date"]].assign(cure=_cure_dates(triggers, definition)),
        on="customer_id",
    )
    cure = pairs["cure"].fillna(pd.Timestamp.max)
    holds = (pairs["trigger_date"] <= pairs["as_of"]) & (pairs["as_of"] < cure)
    enters = (pairs["trigger_date"] > pairs["as_of"]) & (
        pairs["trigger_date"] <= horizon_end.to_numpy()[pairs["row"].to_numpy()]
    )
    already = np.zeros(len(frame), dtype=bool)
    already[pairs.loc[holds, "row"].to_numpy()] = True
    within = np.zeros(len(frame), dtype=bool)
    within[pairs.loc[enters, "row"].to_numpy()] = True
    observed = (horizon_end <= pd.Timestamp(data_end)).to_numpy()
    keep = ~already & (within | observed)
    frame["label_default_12m"] = within.astype("int64")
    return frame.loc[keep].reset_index(drop=True)


def make_late_payment_labels(
    ledger: Ledger, data_end: date, thresholds: Iterable[int] = LATE_THRESHOLDS_DAYS
) -> pd.DataFrame:
    """Per invoice issued by ``data_end``: ``label_late_<k>`` = days beyond terms > k, NaN when not yet known.

    A settled invoice is labelled by its days beyond terms; a written-off one is late
    beyond every threshold; an open one is late beyond k once it is more than k days past
    due at ``data_end``, and censored (NaN) for the thresholds it cannot decide yet.
    ``days_beyond_terms`` is set for settled invoices only.
    """
    invoices = ledger.frame("invoices")
    end = pd.Timestamp(data_end)
    invoices = invoices[invoices["issue_date"] <= end]
    settled = invoices["settled_date"].notna() & (invoices["settled_date"] <= end)
    written_off = invoices["written_off_date"].notna() & (invoices["written_off_date"] <= end) & ~settled
    days_beyond = (invoices["settled_date"] - invoices["due_date"]).dt.days.where(settled)
    past_due_now = (end - invoices["due_date"]).dt.days
    frame = pd.DataFrame(
        {"invoice_id": invoices["invoice_id"].to_numpy(), "days_beyond_terms": days_beyond.to_numpy()}
    )
    for k in thresholds:
        label = np.where(settled, days_beyond > k, np.where(written_off | (past_due_now > k), 1.0, np.nan))
        frame[f"label_late_{k}"] = label.astype("float64")
    return frame


def make_onboarding_labels(
    ledger: Ledger,
    data_end: date,
    horizon_months: int = 12,
    definition: DefaultDefinition = DefaultDefinition(),
) -> pd.DataFrame:
    """``label_default_12m`` at onboarding: default within the horizon after onboarding_date.

    Customers whose horizon runs past ``data_end`` without a default are left out, and so
    are customers onboarded before the ledger's first invoice: their first months are not
    in the ledger, so a default then could not be seen.
    """
    customers = ledger.frame("customers")[["customer_id", "onboarding_date"]]
    first_issue = pc.min(ledger.invoices["issue_date"]).as_py()
    if first_issue is None:
        return pd.DataFrame(columns=["customer_id", "onboarding_date", "label_default_12m"])
    observed = (customers["onboarding_date"] >= pd.Timestamp(first_issue)) & (
        customers["onboarding_date"] <= pd.Timestamp(data_end)
    )
    customers = customers[observed]
    snapshots = customers.rename(columns={"onboarding_date": "as_of"})
    snapshots["as_of"] = snapshots["as_of"] - timedelta(days=1)  # nobody is in default before onboarding
    labels = make_default_labels(ledger, snapshots, data_end, horizon_months, definition)
    labels["as_of"] = labels["as_of"] + timedelta(days=1)
    return labels.rename(columns={"as_of": "onboarding_date"})


def make_payment_timeline(ledger: Ledger, data_end: date) -> pd.DataFrame:
    """Per invoice issued by ``data_end``: the dates its payment history is modelled from.

    Columns ``invoice_id, due_date, settled_date, written_off_date, dispute_date`` (NaT when not by
    ``data_end``) and the partial payments before settlement as lists:
    ``partial_payment_dates`` and ``partial_payment_shares`` (cumulative share of the
    amount paid by each date).
    """
    end = pd.Timestamp(data_end)
    invoices = ledger.frame("invoices")
    invoices = invoices[invoices["issue_date"] <= end]
    frame = pd.DataFrame(
        {"invoice_id": invoices["invoice_id"].to_numpy(), "due_date": invoices["due_date"].to_numpy()}
    )
    for column in ("settled_date", "written_off_date", "dispute_date"):
        dates = pd.to_datetime(invoices[column])
        frame[column] = dates.where(dates <= end).to_numpy()
    payments = ledger.frame("payments")
    payments = payments[pd.to_datetime(payments["payment_date"]) <= end]
    daily = payments.groupby(["invoice_id", "payment_date"], as_index=False)["amount"].sum()
    daily = daily.merge(
        invoices[["invoice_id", "amount"]].rename(columns={"amount": "invoice_amount"}), on="invoice_id"
    ).sort_values(["invoice_id", "payment_date"], kind="stable")
    daily["share"] = daily.groupby("invoice_id")["amount"].cumsum() / daily["invoice_amount"]
    partial = daily[daily["share"] < 1 - 1e-9]
    grouped = partial.groupby("invoice_id").agg(
        partial_payment_dates=("payment_date", list), partial_payment_shares=("share", list)
    )
    frame = frame.merge(grouped, left_on="invoice_id", right_index=True, how="left")
    for column in ("partial_payment_dates", "partial_payment_shares"):
        frame[column] = [v if isinstance(v, list) else [] for v in frame[column]]
    return frame
