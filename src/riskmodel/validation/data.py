"""A champion model, its MLflow run, and its out-of-time rows rebuilt from the ledger as training cut them.

Validation never scores training rows: the training table is rebuilt with the run's data end,
feature windows and horizon, cut by the same out-of-time design (:mod:`riskmodel.models.design`),
and scored by the run's validation model, fitted on the development rows only. The
registered champion was refitted on every labelled row, so it never scores validation
rows here. :func:`reproduction_checks` shows that the rebuild matches what the run logged.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from riskmodel.exceptions import ModelNotFoundError, NotEnoughDataError
from riskmodel.ledger.tables import Ledger
from riskmodel.models.card import ledger_fingerprint
from riskmodel.models.config import TrainConfig
from riskmodel.models.design import Design
from riskmodel.models.fit import DESIGN_PARTS, table_design
from riskmodel.models.metrics import auc
from riskmodel.models.pipeline import RiskPipeline
from riskmodel.models.specs import MODEL_SPECS, ModelSpec, Target, outcome_known
from riskmodel.models.tracking import load_model_version, load_validation_model

FINGERPRINT_FILE = "data_fingerprint.json"
ORIGINS_FILE = "rolling_origins.csv"
OPEN_INVOICES_FILE = "open_invoice_calibration.csv"
EXPLAIN_ROWS = 2000  # rows whose contributions are computed for the summary and dependence plots


@dataclass(frozen=True)
class ChampionRun:
    """The champion version of one registered model with what its training run logged."""

    spec: ModelSpec
    model: RiskPipeline
    validation_model: RiskPipeline
    version: str
    run_id: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    fingerprint: dict[str, Any]
    origins: pd.DataFrame | None = None  # the run's rolling-origin table (``rolling_origins.csv``)
    open_invoices: pd.DataFrame | None = (
        None  # late payment: open invoices at later dates (``open_invoice_calibration.csv``)
    )

    @property
    def data_end(self) -> date:
        """Last day of data the run trained on (labels included)."""
        value = self.params.get("data.end", "None")
        if value in ("None", ""):
            raise NotEnoughDataError(
                f"{self.spec.registered_name} version {self.version} was trained without dates; "
                "the out-of-time rebuild needs a model trained on a ledger"
            )
        return date.fromisoformat(value)

    def train_config(self) -> TrainConfig:
        """The parts of the run's training configuration that shape its table and design."""
        return TrainConfig(
            features=self.model.feature_config,
            validation_share=float(self.params["validation_share"]),
            cv_folds=int(self.params["cv_folds"]),
            min_train_positives=int(self.params["min_train_positives"]),
            horizon_months=int(self.params["horizon_months"]),
        )


def load_champion_run(name: str, tracking_uri: str) -> ChampionRun:
    """The champion of ``name`` (``default``, ``late_payment`` or ``onboarding``) and its run.

    Raises
    ------
    ModelNotFoundError
        When the registered model has no champion in ``tracking_uri``.
    """
    spec = MODEL_SPECS[name]
    model, version = load_model_version(spec.registered_name, "champion", tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    run_id = client.get_model_version(spec.registered_name, version).run_id
    run = client.get_run(run_id)
    with tempfile.TemporaryDirectory() as folder:
        path = client.download_artifacts(run_id, FINGERPRINT_FILE, folder)
        fingerprint = json.loads(Path(path).read_text(encoding="utf-8"))
        origins = pd.read_csv(client.download_artifacts(run_id, ORIGINS_FILE, folder))
        logged = {item.path for item in client.list_artifacts(run_id)}
        open_invoices = (
            pd.read_csv(client.download_artifacts(run_id, OPEN_INVOICES_FILE, folder))
            if OPEN_INVOICES_FILE in logged
            else None
        )
    return ChampionRun(
        spec,
        model,
        load_validation_model(run_id, tracking_uri),
        version,
        run_id,
        dict(run.data.params),
        dict(run.data.metrics),
        dict(run.data.tags),
        fingerprint,
        origins,
        open_invoices,
    )


def load_champion_runs(tracking_uri: str) -> tuple[dict[str, ChampionRun], dict[str, str]]:
    """The champion run of every model that has one, and why the others are missing."""
    runs, missing = {}, {}
    for name in MODEL_SPECS:
        try:
            runs[name] = load_champion_run(name, tracking_uri)
        except ModelNotFoundError as err:
            missing[name] = str(err)
    return runs, missing


@dataclass(frozen=True)
class OutOfTimeData:
    """The run's training table rebuilt from a ledger, its design, and the validation model's outputs on every row."""

    run: ChampionRun
    table: pd.DataFrame
    outputs: pd.DataFrame
    design: Design
    known: dict[str, np.ndarray]
    ledger_matches: bool

    @property
    def spec(self) -> ModelSpec:
        return self.run.spec

    def rows(self, slice_name: str, target: Target | None = None) -> np.ndarray:
        """Positions of ``development`` or ``validation`` rows; with ``target``, only those whose outcome is known."""
        rows = self.design.rows(slice_name)
        return rows if target is None else rows[self.known[target.label][rows]]

    def outcomes(self, target: Target, slice_name: str = "validation") -> tuple[np.ndarray, np.ndarray]:
        """Observed outcome and predicted probability of ``target`` on a slice's labelled rows."""
        rows = self.rows(slice_name, target)
        y = self.table[target.label].to_numpy(dtype=float)[rows]
        return y, self.outputs[target.output].to_numpy(dtype=float)[rows]

    def groups(self, target: Target, slice_name: str = "validation") -> np.ndarray:
        """The customer (else the key) of each labelled row of a slice, in :meth:`outcomes` order."""
        column = "customer_id" if "customer_id" in self.table.columns else self.spec.key_column
        return self.table[column].to_numpy()[self.rows(slice_name, target)]

    def frame(self, slice_name: str) -> pd.DataFrame:
        """A slice's rows: the training-table columns and the model's outputs (labelled or not)."""
        rows = self.rows(slice_name)
        return pd.concat(
            [self.table.iloc[rows].reset_index(drop=True), self.outputs.iloc[rows].reset_index(drop=True)],
            axis=1,
        )


@dataclass(frozen=True)
class Contributions:
    """Per-feature contributions to the raw score (log-odds) of sampled rows, with the values the model saw.

    ``values`` and ``features`` have shape (n_rows, n_features); categorical features appear
    as their integer codes, the positions in ``categories[name]``. ``rows`` are the explained
    rows' positions in the training table.
    """

    output: str
    names: list[str]
    values: np.ndarray
    features: np.ndarray
    categories: dict[str, list[str]]
    rows: np.ndarray

    def importance(self) -> pd.Series:
        """Mean absolute contribution of each feature, largest first."""
        mean_abs = np.abs(self.values).mean(axis=0) if len(self.values) else np.zeros(len(self.names))
        return pd.Series(mean_abs, index=self.names, name="mean_abs_contribution").sort_values(
            ascending=False
        )

    def top(self, n: int) -> list[str]:
        """The ``n`` features with the largest mean absolute contribution (features that never contribute left out)."""
        ranked = self.importance()
        return list(ranked[ranked > 0].index[:n])


def explain_rows(
    data: OutOfTimeData,
    slice_name: str = "validation",
    output: str | None = None,
    max_rows: int = EXPLAIN_ROWS,
) -> Contributions:
    """Contributions of up to ``max_rows`` rows of a slice (a seeded random sample when there are more)."""
    rows = data.rows(slice_name)
    if len(rows) > max_rows:
        rows = np.sort(np.random.default_rng(0).choice(rows, max_rows, replace=False))
    model = data.run.model
    output = output or data.spec.targets[0].output
    X = data.table.iloc[rows]
    values, _ = model.contributions(X, output)
    return Contributions(
        output,
        model.feature_names,
        values,
        model.preparer.transform(X),
        dict(model.preparer.categories_),
        rows,
    )


def rebuild_out_of_time(run: ChampionRun, ledger: Ledger) -> OutOfTimeData:
    """Rebuild the run's training table from ``ledger`` and cut it as training did.

    Mirrors :func:`riskmodel.models.fit.fit_model`: the table as of the run's data end,
    sorted by the model's date column, outcomes known by that date, and
    :func:`~riskmodel.models.fit.table_design` on the split label's positive cases.
    """
    spec, data_end, config = run.spec, run.data_end, run.train_config()
    table = spec.build_table(ledger, data_end, config)
    table = table.sort_values(spec.date_column, kind="stable").reset_index(drop=True)
    known = {t.label: outcome_known(spec, table, t, data_end, config.horizon_months) for t in spec.targets}
    design = table_design(spec, table, known, config)
    outputs = run.validation_model.predict(table).reset_index(drop=True)
    logged_tables = run.fingerprint.get("tables", {})
    current_tables = ledger_fingerprint(ledger, data_end)["tables"]
    matches = all(
        logged_tables.get(name, {}).get("sha256") == t["sha256"] for name, t in current_tables.items()
    )
    return OutOfTimeData(run, table, outputs, design, known, matches)


def reproduction_checks(data: OutOfTimeData) -> pd.DataFrame:
    """What the run logged against what the rebuild gives: row counts, dates, positives and the out-of-time AUC.

    Returns
    -------
    pd.DataFrame
        ``check, logged, rebuilt, match`` — every row should match when the ledger is the one trained on.
    """
    spec, logged = data.spec, data.run.fingerprint.get("design", {})
    dates = pd.to_datetime(data.table[spec.date_column])
    split_label = spec.split_label
    rows = [
        (
            "ledger content (SHA-256 of every table)",
            "trained ledger",
            "same" if data.ledger_matches else "differs",
        )
    ]
    for name in DESIGN_PARTS:
        positions = data.rows(name)
        usable = positions[data.known[split_label][positions]]
        rebuilt = {
            "rows": len(positions),
            "positive": int((data.table[split_label].to_numpy()[usable] == 1).sum()),
            "first_date": dates.iloc[positions].min().date().isoformat() if len(positions) else None,
            "last_date": dates.iloc[positions].max().date().isoformat() if len(positions) else None,
        }
        rows += [
            (f"{name} rows: {key}", logged.get(name, {}).get(key), value) for key, value in rebuilt.items()
        ]
    primary = spec.targets[0]
    rows.append(("out-of-time AUC", data.run.metrics.get("oot.auc"), auc(*data.outcomes(primary))))
    frame = pd.DataFrame(rows, columns=["check", "logged", "rebuilt"])
    frame["match"] = [_same(a, b) for a, b in zip(frame["logged"], frame["rebuilt"], strict=True)]
    frame.loc[0, "match"] = data.ledger_matches
    return frame


def _same(logged: object, rebuilt: object) -> bool:
    if isinstance(logged, float) or isinstance(rebuilt, float):
        return logged is not None and rebuilt is not None and bool(np.isclose(float(logged), float(rebuilt)))
    return logged == rebuilt
