"""What happened after each scoring date of a backtest: defaults, invoices crossing 60 days past due, exposure at default.

Every outcome is read from the ledger *after* the scoring date it judges; the scoring itself
never sees it (DESIGN.md, ``riskmodel backtest``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from riskmodel.labels import DefaultDefinition, add_months, default_state, default_triggers
from riskmodel.ledger.tables import Ledger
from riskmodel.scoring import open_invoices

OUTCOME_MONTHS = 6  # outcomes are looked for within this many months of a scoring date
LEAD_DAYS = 30  # a warning counts for recall when raised at least this many days before the default
SEVERE_DPD = 60  # an invoice crossing this many days past due is a bad outcome for alert precision


def first_defaults(
    ledger: Ledger, dates: Sequence[date], until: date, definition: DefaultDefinition
) -> pd.DataFrame:
    """For each scoring date and each customer not in default then: the first default date after it (NaT if none by ``until``).

    Columns ``as_of, customer_id, in_default, next_default_date``: one row per (date, customer
    with a default trigger by ``until``); customers without any trigger are absent.
    """
    triggers = default_triggers(ledger, until, definition)[["customer_id", "trigger_date"]]
    frames = []
    for as_of in dates:
        state = default_state(ledger, as_of, definition)
        in_default = state.loc[state["in_default"], "customer_id"]
        later = triggers[triggers["trigger_date"] > pd.Timestamp(as_of)]
        first = later.groupby("customer_id", sort=True)["trigger_date"].min()
        customers = pd.Index(triggers["customer_id"].unique())
        frame = pd.DataFrame({"customer_id": customers})
        frame["as_of"] = pd.Timestamp(as_of)
        frame["in_default"] = frame["customer_id"].isin(in_default).to_numpy()
        next_default = first.reindex(customers).to_numpy()
        frame["next_default_date"] = np.where(frame["in_default"], np.datetime64("NaT"), next_default)
        frames.append(frame)
    columns = ["as_of", "customer_id", "in_default", "next_default_date"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def crossing_dates(ledger: Ledger, days: int = SEVERE_DPD) -> pd.DataFrame:
    """The day each invoice became more than ``days`` past due while unpaid (columns ``customer_id, invoice_id, crossed``).

    Invoices settled or written off by then never cross.
    """
    invoices = ledger.invoices
    crossed = pd.Series(pd.to_datetime(invoices["due_date"])) + pd.Timedelta(days=days + 1)
    closed = [pd.Series(pd.to_datetime(invoices[column])) for column in ("settled_date", "written_off_date")]
    still_open = (closed[0].isna() | (closed[0] >= crossed)) & (closed[1].isna() | (closed[1] >= crossed))
    frame = pd.DataFrame(
        {
            "customer_id": invoices["customer_id"].to_numpy(),
            "invoice_id": invoices["invoice_id"].to_numpy(),
            "crossed": crossed.to_numpy(),
        }
    )
    return frame[still_open.to_numpy()].reset_index(drop=True)


def bad_outcomes(
    scored: pd.DataFrame, defaults: pd.DataFrame, crossings: pd.DataFrame, months: int = OUTCOME_MONTHS
) -> np.ndarray:
    """Whether each scored (``as_of``, ``customer_id``) row defaults or has an invoice cross 60 days past due within ``months``.

    An invoice that had crossed by the scoring date does not count again; a customer already
    in default at the scoring date counts only through new crossings.
    """
    keys = scored[["as_of", "customer_id"]].assign(as_of=lambda f: pd.to_datetime(f["as_of"]))
    horizon = keys["as_of"] + pd.DateOffset(months=months)
    merged = keys.merge(defaults, on=["as_of", "customer_id"], how="left")
    defaults_soon = (merged["next_default_date"] <= horizon).fillna(False).to_numpy(dtype=bool)
    pairs = keys.reset_index().merge(crossings, on="customer_id")
    in_window = (pairs["crossed"] > pairs["as_of"]) & (
        pairs["crossed"] <= pairs["as_of"] + pd.DateOffset(months=months)
    )
    crosses_soon = np.zeros(len(keys), dtype=bool)
    crosses_soon[pairs.loc[in_window, "index"].to_numpy()] = True
    return defaults_soon | crosses_soon


def exposure_at_default(ledger: Ledger, periods: pd.DataFrame) -> pd.DataFrame:
    """What each default's exposure was made of, month by month before it.

    ``periods`` holds, for each default (``customer_id, default_date``), the scoring dates
    (``as_of``) from six months before it up to it, oldest first. What the customer owed the
    day before its default splits into the invoices issued by the first of these dates
    (``committed``: shipped whatever a later limit said) and those issued in each following
    period (``new``: after ``as_of`` and up to the next scoring date or the default). Each row
    gets its period's ``new`` and the customer's open balance at ``as_of`` (``balance``);
    ``committed`` is on the first row of each default and 0 on the others.
    """
    out = periods.copy()
    out[["committed", "new", "balance"]] = 0.0
    for (customer, default_date), rows in periods.groupby(["customer_id", "default_date"], sort=False):
        before_default = (pd.Timestamp(default_date) - pd.Timedelta(days=1)).date()
        owed = open_invoices(ledger, before_default, [customer])
        issued = pd.to_datetime(owed["issue_date"])
        starts = pd.to_datetime(rows["as_of"]).tolist()
        ends = [*starts[1:], pd.Timestamp(default_date)]
        for index, begin, finish in zip(rows.index, starts, ends, strict=True):
            balance = open_invoices(ledger, begin.date(), [customer])["open_amount"].sum()
            shipped = (issued > begin) & (issued <= finish)
            out.loc[index, ["new", "balance"]] = [
                float(owed.loc[shipped, "open_amount"].sum()),
                float(balance),
            ]
        out.loc[rows.index[0], "committed"] = float(owed.loc[issued <= starts[0], "open_amount"].sum())
    return out


def exposure_under(limit: pd.Series, exposure: pd.DataFrame) -> pd.Series:
    """Exposure at default, per period, under ``limit`` in force from each ``as_of`` (NaN: no limit, everything ships).

    New invoices of a period ship only within the headroom the limit left at its start
    (limit minus the open balance then); sum over a default's rows for its exposure.
    """
    headroom = (limit - exposure["balance"]).clip(lower=0)
    shipped = np.minimum(exposure["new"], headroom.fillna(np.inf))
    return exposure["committed"] + shipped


def lead_window(default_date: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Scoring dates whose alerts count for a default's recall: from ``OUTCOME_MONTHS`` to ``LEAD_DAYS`` before it."""
    dates = pd.to_datetime(default_date)
    return dates - pd.DateOffset(months=OUTCOME_MONTHS), dates - pd.Timedelta(days=LEAD_DAYS)


def outcome_end(end: date) -> date:
    """The last day outcomes of scoring dates up to ``end`` are read from."""
    return add_months(end, OUTCOME_MONTHS)


def recall_window(start: date, end: date) -> tuple[date, date]:
    """Defaults a backtest from ``start`` to ``end`` must have warned of: dated after ``start`` + 30 days, by ``end`` + 30 days."""
    return start + timedelta(days=LEAD_DAYS), end + timedelta(days=LEAD_DAYS)
