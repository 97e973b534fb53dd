"""The three models: their training tables, targets, dates and registry names (DESIGN.md "Targets")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np
import pandas as pd

from riskmodel.features.definitions import Level
from riskmodel.labels import LATE_THRESHOLDS_DAYS, DefaultDefinition
from riskmodel.ledger.tables import Ledger
from riskmodel.models.config import TrainConfig
from riskmodel.training_tables import (
    default_training_table,
    late_payment_training_table,
    onboarding_training_table,
)


class TableBuilder(Protocol):
    """Builds a model's training table; ``definition`` is the policy's default definition (labels)."""

    def __call__(
        self,
        ledger: Ledger,
        as_of: date | None,
        config: TrainConfig,
        definition: DefaultDefinition = ...,
    ) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Target:
    """One binary target: its label column, the output column it feeds and its metric suffix."""

    label: str
    output: str
    suffix: str = ""
    threshold_days: int | None = None


@dataclass(frozen=True)
class ModelSpec:
    """What one model is trained on and where it is registered (one MLflow experiment per model)."""

    name: str
    registered_name: str
    level: Level
    date_column: str
    key_column: str
    targets: tuple[Target, ...]
    split_label: str
    purpose: str
    build_table: TableBuilder
    without_model: str = ""  # how riskmodel answers while no version is registered

    @property
    def experiment_name(self) -> str:
        return self.registered_name

    @property
    def label_columns(self) -> list[str]:
        return [t.label for t in self.targets]


def outcome_end(
    spec: ModelSpec, table: pd.DataFrame, horizon_months: int, target: Target | None = None
) -> pd.Series:
    """The day each row's outcome window closes (for ``target``, default: the widest of ``spec``'s targets).

    A late-payment threshold ``k`` is decided once the invoice is more than ``k`` days past
    due; a default label once ``horizon_months`` after the row's date have passed. The
    same date holds for positive and negative rows: the out-of-time design cuts by it.
    """
    if spec.level == "invoice":
        days = max(t.threshold_days or 0 for t in spec.targets) if target is None else target.threshold_days
        due = pd.to_datetime(table["issue_date"]) + pd.to_timedelta(table["invoice_terms_days"], unit="D")
        return due + pd.Timedelta(days=int(days or 0) + 1)
    return pd.to_datetime(table[spec.date_column]) + pd.DateOffset(months=horizon_months)


def outcome_known(
    spec: ModelSpec, table: pd.DataFrame, target: Target, data_end: date, horizon_months: int
) -> np.ndarray:
    """Boolean mask of the rows of ``table`` whose ``target`` outcome is fully observed by ``data_end``.

    Rows still inside their window (:func:`outcome_end`) are left out: keeping only those
    whose outcome already happened (paid early, or already in default) would bias the rates.
    """
    labelled = table[target.label].notna()
    closes = outcome_end(spec, table, horizon_months, target)
    return (labelled & (closes <= pd.Timestamp(data_end))).to_numpy()


def positive_cases(spec: ModelSpec, table: pd.DataFrame) -> int:
    """Positive cases of ``spec``'s split label: distinct keys (customers; invoices for late payment)."""
    return int(table.loc[table[spec.split_label] == 1, spec.key_column].nunique())


LATE_PAYMENT = ModelSpec(
    name="late_payment",
    registered_name="riskmodel-late-payment",
    level="invoice",
    date_column="issue_date",
    key_column="invoice_id",
    targets=tuple(
        Target(f"label_late_{k}", "p_late" if k == 0 else f"p_late_{k}", "" if k == 0 else f"_{k}", k)
        for k in LATE_THRESHOLDS_DAYS
    ),
    split_label="label_late_0",
    purpose="Probability that an invoice is paid more than 0, 30, 60 and 90 days beyond its terms "
    "(the collection tiers), and its expected payment date, scored at the issue date.",
    build_table=lambda ledger, as_of, config, definition=DefaultDefinition(): late_payment_training_table(
        ledger, as_of, config.features
    ),
    without_model="invoice answers list the invoices without late-payment probabilities and say so",
)

DEFAULT = ModelSpec(
    name="default",
    registered_name="riskmodel-default",
    level="customer",
    date_column="as_of",
    key_column="customer_id",
    targets=(Target("label_default_12m", "pd_12m"),),
    split_label="label_default_12m",
    purpose="Calibrated 12-month probability of default (pd_12m) of an active customer at a month-end snapshot.",
    build_table=lambda ledger, as_of, config, definition=DefaultDefinition(): default_training_table(
        ledger, as_of, config.horizon_months, config.features, definition
    ),
    without_model="/score, /portfolio and rescore grade customers by the policy's payment-behaviour rules "
    '("basis": "rules")',
)

ONBOARDING = ModelSpec(
    name="onboarding",
    registered_name="riskmodel-onboarding",
    level="onboarding",
    date_column="onboarding_date",
    key_column="customer_id",
    targets=(Target("label_default_12m", "pd_12m"),),
    split_label="label_default_12m",
    purpose="Calibrated 12-month probability of default of a new customer from application data only.",
    build_table=lambda ledger, as_of, config, definition=DefaultDefinition(): onboarding_training_table(
        ledger, as_of, config.horizon_months, config.features, definition
    ),
    without_model='/onboard grades applications by the policy\'s onboarding rules ("basis": "rules")',
)

MODEL_SPECS: dict[str, ModelSpec] = {spec.name: spec for spec in (LATE_PAYMENT, DEFAULT, ONBOARDING)}
