"""Collection tiers of open invoices from their days past due (30/60/90 practice)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskmodel.policy.config import CollectionPolicy, Policy
from riskmodel.policy.texts import check_lang, render

NO_ACTION = "none"


def collection_tier(days_past_due: npt.ArrayLike, collection: CollectionPolicy) -> np.ndarray:
    """Tier of each invoice: 0 when not overdue (or unknown), else the highest tier reached (1..n).

    Examples
    --------
    >>> from riskmodel.policy.config import load_policy
    >>> collection_tier([0, 1, 30, 31, 61, 91, 400], load_policy().collection).tolist()
    [0, 1, 1, 2, 3, 4, 4]
    """
    days = np.asarray(days_past_due, dtype=float)
    starts = np.array([tier.min_days_past_due for tier in collection.tiers], dtype=float)
    tiers = np.searchsorted(starts, days, side="right")
    return np.where(np.isnan(days), 0, tiers).astype(np.int64)


def tier_actions(
    tiers: npt.ArrayLike, is_disputed: npt.ArrayLike, collection: CollectionPolicy
) -> np.ndarray:
    """The ladder action id of each tier; a disputed overdue invoice gets the dispute action when collection pauses."""
    tiers = np.asarray(tiers, dtype=np.int64)
    ladder = np.array([NO_ACTION] + [tier.action for tier in collection.tiers], dtype=object)
    actions = ladder[tiers]
    if collection.pause_on_dispute:
        actions = np.where(
            np.asarray(is_disputed, dtype=bool) & (tiers > 0), collection.dispute_action, actions
        )
    return actions


def action_texts(actions: npt.ArrayLike, lang: str = "en") -> np.ndarray:
    """Recommended-action sentence for each action id."""
    check_lang(lang)
    actions = np.asarray(actions, dtype=object)
    texts = {action: render(f"action.{action}", lang) for action in pd.unique(actions)}
    return np.array([texts[action] for action in actions], dtype=object)


def collection_plan(open_invoices: pd.DataFrame, policy: Policy, lang: str = "en") -> pd.DataFrame:
    """``open_invoices`` with ``collection_tier``, ``collection_action`` and ``collection_action_text`` added.

    ``open_invoices`` needs ``days_past_due``; ``is_disputed`` is optional (False when absent).
    """
    disputed = (
        open_invoices["is_disputed"].fillna(False).astype(bool)
        if "is_disputed" in open_invoices
        else np.zeros(len(open_invoices), bool)
    )
    tiers = collection_tier(open_invoices["days_past_due"], policy.collection)
    actions = tier_actions(tiers, disputed, policy.collection)
    return open_invoices.assign(
        collection_tier=tiers, collection_action=actions, collection_action_text=action_texts(actions, lang)
    )
