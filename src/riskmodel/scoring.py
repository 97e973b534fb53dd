"""One scoring path: features, models, reason codes and policy, for the service, batch rescoring and notebooks.

:func:`score_prepared` turns customers' features, default state and open invoices into
PD, grade, reasons, alerts and limits. :func:`score_customers` computes those inputs from
a ledger and calls it (the service, on one customer's rows or a few customers); batch
rescoring computes them once for the portfolio and calls it on each chunk. Both get the
same numbers because they run the same function. Invoices are scored here too:
:func:`score_open_invoices` for the open invoices of a scoring, :func:`score_invoices`
for every invoice of a ledger (``riskmodel score-invoices``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from riskmodel.duck import duckdb_cursor
from riskmodel.exceptions import ModelNotFoundError
from riskmodel.explain import comparison_points, default_trigger_reasons, reason_codes
from riskmodel.features.customer import customer_features
from riskmodel.features.definitions import FeatureConfig
from riskmodel.features.invoice import invoice_features
from riskmodel.features.onboarding import application_row, onboarding_features
from riskmodel.jsonable import to_jsonable
from riskmodel.labels import STATE_COLUMNS, DefaultDefinition, default_state
from riskmodel.ledger.tables import Ledger
from riskmodel.models import CreditModel, LatePaymentModel, load_champion
from riskmodel.models.specs import MODEL_SPECS
from riskmodel.policy import (
    AlertUpdate,
    Policy,
    decide_onboarding,
    decide_onboarding_by_rules,
    evaluate_alerts,
    load_policy,
    recommend_limits,
)
from riskmodel.policy.config import ReasonPolicy
from riskmodel.policy.limits import limit_rationale, limit_rationale_texts
from riskmodel.policy.payment_rules import grade_by_payment_rules, rule_features
from riskmodel.policy.texts import render

logger = logging.getLogger(__name__)

LATE_COLUMNS = ("p_late", "p_late_30", "p_late_60", "p_late_90")
OPEN_INVOICE_COLUMNS = (
    "customer_id",
    "invoice_id",
    "issue_date",
    "due_date",
    "amount",
    "open_amount",
    "days_past_due",
    "is_disputed",
)
PAYMENT_DATE_COLUMNS = ("expected_payment_date", "payment_date_p10", "payment_date_p90")
INVOICE_SCORE_COLUMNS = ("invoice_id", *LATE_COLUMNS, *PAYMENT_DATE_COLUMNS)


Basis = Literal["model", "rules"]


@dataclass(frozen=True)
class ModelBundle:
    """The champion models and the policy that turn features into decisions.

    Without a default model, customers are graded by the policy's payment-behaviour rules
    (:attr:`basis` ``"rules"``); the rules' features must then exist with the bundle's
    :attr:`feature_config` (a :class:`~riskmodel.exceptions.PolicyError` says which does not).
    """

    policy: Policy
    default: CreditModel | None = None
    late_payment: LatePaymentModel | None = None
    onboarding: CreditModel | None = None
    versions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.default is None:
            rule_features(self.policy.payment_rules, self.feature_config)

    @classmethod
    def from_registry(cls, tracking_uri: str | None = None, policy: Policy | None = None) -> ModelBundle:
        """The ``champion`` of each registered model (missing ones left out) and the policy."""
        models: dict[str, Any] = {}
        versions: dict[str, str] = {}
        for name, spec in MODEL_SPECS.items():
            try:
                models[name], versions[name] = load_champion(spec.registered_name, tracking_uri)
            except ModelNotFoundError as err:
                logger.warning("%s; %s", err, spec.without_model)
        return cls(policy=policy or load_policy(), versions=versions, **models)

    @property
    def basis(self) -> Basis:
        """``"model"`` when customers are scored by the default model, ``"rules"`` by the policy's payment-behaviour rules."""
        return "rules" if self.default is None else "model"

    @property
    def feature_config(self) -> FeatureConfig:
        """The windows customer features are computed with: the default model's, else the late-payment model's, else the defaults."""
        model = self.default or self.late_payment
        return model.feature_config if model is not None else FeatureConfig()

    @property
    def comparison_features(self) -> list[str]:
        """Features whose portfolio medians the reasons compare against (the default model's; none with the rules)."""
        return [] if self.default is None else self.default.feature_names

    @property
    def model_version(self) -> str:
        """All champion versions in one string, e.g. ``default:3,late_payment:2,onboarding:1``."""
        return ",".join(f"{name}:{version}" for name, version in sorted(self.versions.items()))


@dataclass(frozen=True)
class CustomerScores:
    """Scores of a set of customers as of one date, with everything a decision needs."""

    as_of: date
    scores: pd.DataFrame  # customer_id, as_of, pd_12m, grade, basis, in_default, default_date, current_limit, recommended_limit, limit_rule, limit_rationale, reasons
    limits: pd.DataFrame  # every number of the limit formula and review, one row per customer
    alerts: AlertUpdate
    open_invoices: pd.DataFrame  # OPEN_INVOICE_COLUMNS + late-payment probabilities and payment dates
    features: pd.DataFrame


def open_invoices(ledger: Ledger, as_of: date, customer_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Invoices open at the end of ``as_of``: amount still owed, days past due, whether disputed."""
    with duckdb_cursor() as con:
        con.register("invoices", ledger.invoices)
        con.register("payments", ledger.payments)
        wanted = ""
        if customer_ids is not None:
            con.register("wanted", pd.DataFrame({"customer_id": list(customer_ids)}, dtype=object))
            wanted = "AND i.customer_id IN (SELECT customer_id FROM wanted)"
        frame = con.execute(
            f"""
            WITH paid AS (SELECT invoice_id, sum(amount) AS paid FROM payments WHERE payment_date <= $as_of GROUP BY invoice_id)
            SELECT i.customer_id, i.invoice_id, i.issue_date, i.due_date, i.amount,
                   greatest(i.amount - coalesce(p.paid, 0), 0) AS open_amount,
                   date_diff('day', i.due_date, $as_of) AS days_past_due,
                   coalesce(i.dispute_date <= $as_of, false) AS is_disputed
            FROM invoices i LEFT JOIN paid p USING (invoice_id)
            WHERE i.issue_date <= $as_of AND coalesce(i.settled_date > $as_of, true)
              AND coalesce(i.written_off_date > $as_of, true) {wanted}
            ORDER BY i.customer_id, i.due_date, i.invoice_id
            """,
            {"as_of": as_of},
        ).df()
    return frame[list(OPEN_INVOICE_COLUMNS)]


def _payment_dates(features: pd.DataFrame, days_beyond_terms: pd.Series) -> np.ndarray:
    """Due date (issue date + invoice terms) plus whole days beyond terms, as dates."""
    due = (
        pd.to_datetime(features["issue_date"]).to_numpy()
        + pd.to_timedelta(features["invoice_terms_days"].to_numpy(dtype=float), unit="D").to_numpy()
    )
    dates = pd.Series(due + pd.to_timedelta(days_beyond_terms.to_numpy(dtype=float), unit="D").to_numpy())
    return dates.dt.normalize().dt.date.to_numpy()


def late_payment_scores(
    model: LatePaymentModel, features: pd.DataFrame, status: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``INVOICE_SCORE_COLUMNS`` of each row of an invoice feature table, in its row order.

    Without ``status`` every invoice is scored at its issue date. ``status`` (same rows, same
    order) holds ``days_past_due`` (NaN to score that row at issue), ``is_disputed`` and
    ``paid_share`` of invoices open at a later date: their probabilities and payment dates
    are then conditional on being unpaid that long (:meth:`LatePaymentModel.predict_timing`).
    """
    predicted = model.predict_timing(features, **({} if status is None else status_inputs(status)))
    predicted["invoice_id"] = features["invoice_id"].to_numpy()
    predicted["expected_payment_date"] = _payment_dates(features, predicted["expected_days_beyond_terms"])
    predicted["payment_date_p10"] = _payment_dates(features, predicted["days_beyond_terms_p10"])
    predicted["payment_date_p90"] = _payment_dates(features, predicted["days_beyond_terms_p90"])
    return predicted[list(INVOICE_SCORE_COLUMNS)].reset_index(drop=True)


def score_invoices(ledger: Ledger, model: LatePaymentModel) -> pd.DataFrame:
    """One row per invoice of ``ledger``: P(days beyond terms > 0/30/60/90) and payment dates, at issue.

    Every invoice is scored with the features known the day before its issue date (the
    same features the model was trained on), so settled invoices get the score they would
    have had when issued. Columns: ``INVOICE_SCORE_COLUMNS``.
    """
    features = invoice_features(ledger, config=model.feature_config)
    if features.empty:
        return pd.DataFrame(columns=list(INVOICE_SCORE_COLUMNS))
    return late_payment_scores(model, features)


def invoice_status(invoices: pd.DataFrame) -> pd.DataFrame:
    """``invoice_id, days_past_due, is_disputed, paid_share`` of invoices as :func:`open_invoices` lists them.

    Rows that are not open (``is_open`` false, or no ``days_past_due``) get NaN days past
    due: they are scored at issue.
    """
    days = pd.to_numeric(invoices["days_past_due"], errors="coerce").astype(float)
    if "is_open" in invoices.columns:
        days = days.where(invoices["is_open"].astype(bool))
    paid = 1.0 - pd.to_numeric(invoices["open_amount"], errors="coerce") / pd.to_numeric(invoices["amount"])
    return pd.DataFrame(
        {
            "invoice_id": invoices["invoice_id"].to_numpy(),
            "days_past_due": days.to_numpy(),
            "is_disputed": invoices["is_disputed"].astype("boolean").fillna(False).to_numpy(dtype=bool),
            "paid_share": paid.clip(0, 1).fillna(0.0).to_numpy(),
        }
    )


def status_inputs(status: pd.DataFrame) -> dict[str, np.ndarray]:
    """:func:`invoice_status` rows as the late-payment model's ``days_past_due, disputed, paid_share`` arguments."""
    return {
        "days_past_due": status["days_past_due"].to_numpy(dtype=float),
        "disputed": status["is_disputed"].fillna(False).to_numpy(dtype=float),
        "paid_share": status["paid_share"].fillna(0.0).to_numpy(dtype=float),
    }


def score_open_invoices(
    bundle: ModelBundle, ledger: Ledger, invoices: pd.DataFrame, features: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Late-payment probabilities and payment dates of each invoice, as of the date it was listed open.

    ``invoices`` come from :func:`open_invoices` (or name closed invoices with ``is_open``
    false, scored at issue). An open invoice is scored given what is known that day: unpaid
    ``days_past_due`` days after its due date, disputed or not, part paid or not.
    ``features`` are the invoices' features (:func:`riskmodel.features.invoice.invoice_features`
    with the late-payment model's config) when the caller has them already, e.g. to explain
    the same rows; otherwise they are computed here. Without a late-payment model the
    columns are added empty.
    """
    out = invoices.copy()
    if bundle.late_payment is None or out.empty:
        for column in INVOICE_SCORE_COLUMNS[1:]:
            out[column] = np.nan
        return out
    features, status = open_invoice_inputs(bundle.late_payment, ledger, out, features)
    scored = late_payment_scores(bundle.late_payment, features, status)
    return out.merge(scored, on="invoice_id", how="left", validate="one_to_one")


def open_invoice_inputs(
    model: LatePaymentModel, ledger: Ledger, invoices: pd.DataFrame, features: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The late-payment model's inputs for invoices listed by :func:`open_invoices`: features at issue and status that day.

    Returns the invoices' features (``features`` when given, else computed with the model's
    config) and :func:`invoice_status` in the same row order, so that row ``i`` of both
    describes one invoice.
    """
    if features is None:
        features = invoice_features(ledger, config=model.feature_config, invoice_ids=invoices["invoice_id"])
    status = features[["invoice_id"]].merge(
        invoice_status(invoices), on="invoice_id", how="left", validate="one_to_one"
    )
    return features, status


def customer_default_state(
    ledger: Ledger, as_of: date, customer_ids: pd.Series, definition: DefaultDefinition = DefaultDefinition()
) -> pd.DataFrame:
    """Default state at ``as_of`` of each customer, in the order given (:func:`riskmodel.labels.default_state`).

    Columns ``STATE_COLUMNS``, index 0..n-1. A customer not in default (never, or cured)
    has ``in_default`` False and every other field empty (``default_date`` NaT).
    """
    state = default_state(ledger, as_of, definition)
    state = state[state["in_default"]].set_index("customer_id")
    aligned = state.reindex(customer_ids.to_numpy()).reset_index(names="customer_id")
    aligned["in_default"] = aligned["in_default"].eq(True)
    aligned["default_date"] = pd.to_datetime(aligned["default_date"])
    return aligned[list(STATE_COLUMNS)]


def _model_scores(
    model: CreditModel,
    features: pd.DataFrame,
    comparison: pd.Series | None,
    lang: str,
    shown: ReasonPolicy = ReasonPolicy(),
) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
    """The default model's PD and SHAP reason codes of each row (as many and as strong as the policy shows)."""
    values = features[model.feature_names]
    if len(features):
        pd_12m = np.asarray(model.predict_proba(features), dtype=float)
        contributions, _ = model.contributions(features)
    else:
        pd_12m, contributions = np.array([]), np.zeros((0, len(model.feature_names)))
    reasons = reason_codes(
        contributions,
        model.feature_names,
        values,
        comparison if comparison is not None else comparison_points(values),
        top_n=shown.top_n,
        lang=lang,
        min_contribution=shown.min_contribution,
    )
    return pd_12m, reasons


def score_features(
    bundle: ModelBundle,
    features: pd.DataFrame,
    default_state: pd.DataFrame | None = None,
    comparison: pd.Series | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """PD, grade and reasons of each row of a customer feature table, by the default model or the policy's rules.

    With a default model: its calibrated PD and SHAP reason codes (``comparison`` defaults
    to the medians of the rows scored). Without one (:attr:`ModelBundle.basis` ``"rules"``):
    the grade of the policy's payment-behaviour rules, its central PD, and the rule steps
    as reasons (:func:`riskmodel.policy.payment_rules.grade_by_payment_rules`). A customer in
    default (``default_state`` from :func:`customer_default_state`, same row order) is
    outside the model's population (training leaves such snapshots out) and the rules'
    purpose: PD 1 whatever the basis, and its one reason names the default trigger.

    Returns
    -------
    pd.DataFrame
        ``customer_id, pd_12m, grade, basis, in_default, default_date, reasons`` in the row
        order of ``features``; ``reasons`` holds a list of reason dicts per customer.
    """
    if bundle.default is None:
        by_rules = grade_by_payment_rules(bundle.policy, features, lang, bundle.feature_config)
        pd_12m, reasons = by_rules.pd_12m, by_rules.reasons
    else:
        pd_12m, reasons = _model_scores(bundle.default, features, comparison, lang, bundle.policy.reasons)
    if default_state is None:
        default_state = pd.DataFrame({"default_date": pd.Series(pd.NaT, index=range(len(features)))})
    default_date = pd.to_datetime(default_state["default_date"]).reset_index(drop=True)
    in_default = default_date.notna().to_numpy()
    pd_12m = np.where(in_default, 1.0, pd_12m)
    grade = np.asarray(bundle.policy.grade(pd_12m), dtype=int)
    if in_default.any():
        triggers = default_trigger_reasons(default_state.reset_index(drop=True), lang)
        reasons = [triggers[i] if in_default[i] else reasons[i] for i in range(len(reasons))]
    return pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "pd_12m": pd_12m,
            "grade": grade,
            "basis": bundle.basis,
            "in_default": in_default,
            "default_date": pd.to_datetime(default_date).dt.date.to_numpy(),
            "reasons": pd.Series(reasons, dtype=object).to_numpy(),
        }
    )


@dataclass(frozen=True)
class PreparedCustomers:
    """What scoring a set of customers as of one date needs beyond the models, computed from the ledger.

    Attributes
    ----------
    features
        One row per customer: the default model's customer features as of ``as_of``.
    default_state
        Default state at ``as_of`` (:func:`customer_default_state`), aligned with the rows of ``features``.
    invoices
        The customers' open invoices at ``as_of`` (:func:`open_invoices`), with or without
        late-payment scores (the policy does not read them).
    """

    as_of: date
    features: pd.DataFrame
    default_state: pd.DataFrame
    invoices: pd.DataFrame

    @staticmethod
    def joined(parts: Sequence[PreparedCustomers]) -> PreparedCustomers:
        """The rows of ``parts`` (of one date) one after another."""

        def rows(name: str) -> pd.DataFrame:
            return pd.concat([getattr(part, name) for part in parts], ignore_index=True)

        return PreparedCustomers(parts[0].as_of, rows("features"), rows("default_state"), rows("invoices"))


def prepare_customers(
    ledger: Ledger, as_of: date, features: pd.DataFrame, definition: DefaultDefinition = DefaultDefinition()
) -> PreparedCustomers:
    """Default state and open invoices at ``as_of`` of the customers of ``features`` (features computed by the caller).

    ``definition`` is the policy's (``Policy.default``).
    """
    customer_ids = features["customer_id"]
    return PreparedCustomers(
        as_of,
        features,
        customer_default_state(ledger, as_of, customer_ids, definition),
        open_invoices(ledger, as_of, customer_ids),
    )


def prepare_scored_customers(
    bundle: ModelBundle, ledger: Ledger, as_of: date, features: pd.DataFrame
) -> PreparedCustomers:
    """:func:`prepare_customers` with the policy's default definition, open invoices scored (:func:`score_open_invoices`)."""
    prepared = prepare_customers(ledger, as_of, features, bundle.policy.default)
    return replace(prepared, invoices=score_open_invoices(bundle, ledger, prepared.invoices))


def score_prepared(
    bundle: ModelBundle,
    prepared: PreparedCustomers,
    previous: pd.DataFrame | None = None,
    open_alerts: pd.DataFrame | None = None,
    comparison: pd.Series | None = None,
    lang: str = "en",
    scored: pd.DataFrame | None = None,
) -> CustomerScores:
    """PD, grade, reasons, alerts and recommended limit of prepared customers: the one scoring path.

    :func:`score_features` (the models), then the policy: alerts with alert memory and
    the recommended limits. :func:`score_customers` (the service) and each chunk of a
    batch rescoring call this function.

    Parameters
    ----------
    previous, open_alerts, comparison
        As in :func:`score_customers`.
    scored
        ``score_features(bundle, prepared.features, prepared.default_state, comparison, lang)``
        when an engine has computed it elsewhere (e.g. on Spark executors); computed here otherwise.
    """
    features = prepared.features
    if scored is None:
        scored = score_features(bundle, features, prepared.default_state, comparison, lang)
    elif not np.array_equal(scored["customer_id"].to_numpy(), features["customer_id"].to_numpy()):
        raise ValueError(
            f"scored must hold the score_features rows of the {len(features)} prepared customers in their "
            f"order; got {len(scored)} rows in another order. Score prepared.features and keep its row order"
        )
    pd_12m, grade = scored["pd_12m"].to_numpy(dtype=float), scored["grade"].to_numpy(dtype=int)
    current = features.assign(
        pd_12m=pd_12m,
        grade=grade,
        in_default=scored["in_default"].to_numpy(),
        default_date=scored["default_date"].to_numpy(),
    )
    alerts = evaluate_alerts(
        bundle.policy, current, prepared.invoices, previous=previous, open_alerts=open_alerts, lang=lang
    )
    limits = recommend_limits(
        bundle.policy,
        features,
        grade,
        has_severe_alert=alerts.has_severe(features["customer_id"]),
        default_date=scored["default_date"].to_numpy(),
    )
    scores = pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "as_of": prepared.as_of,
            "pd_12m": pd_12m,
            "grade": grade,
            "basis": scored["basis"].to_numpy(),
            "in_default": scored["in_default"].to_numpy(),
            "default_date": scored["default_date"].to_numpy(),
            "current_limit": limits["current_limit"].to_numpy()
            if "current_limit" in limits
            else features["credit_limit"].to_numpy(),
            "recommended_limit": limits["recommended_limit"].to_numpy(),
            "limit_rule": limits["limit_rule"].to_numpy(),
            "limit_rationale": limit_rationale_texts(limits, bundle.policy, lang).to_numpy()
            if len(limits)
            else [],
            "reasons": scored["reasons"].to_numpy(),
        }
    )
    return CustomerScores(prepared.as_of, scores, limits, alerts, prepared.invoices, features)


def score_customers(
    bundle: ModelBundle,
    ledger: Ledger,
    as_of: date,
    customer_ids: Iterable[str] | None = None,
    previous: pd.DataFrame | None = None,
    open_alerts: pd.DataFrame | None = None,
    comparison: pd.Series | None = None,
    active_only: bool = True,
    lang: str = "en",
    features: pd.DataFrame | None = None,
) -> CustomerScores:
    """PD, grade, reasons, alerts and recommended limit of each customer as of ``as_of``.

    Features, :func:`prepare_customers`, late-payment scores of the open invoices
    (:func:`score_open_invoices`), then :func:`score_prepared`. A customer already in
    default at ``as_of`` (DESIGN.md's default state, :func:`riskmodel.labels.default_state`)
    gets ``pd_12m`` 1, ``in_default`` set, limit 0 (stop supply) and the trigger as its reason.

    Parameters
    ----------
    previous
        The last stored score per customer (``customer_id, pd_12m, grade``) for PD-jump and downgrade alerts.
    open_alerts
        Alerts open before this scoring (``customer_id, alert_type, key``), so that a condition is raised once.
    comparison
        Comparison points for reasons (portfolio medians); by default the medians of the customers scored.
    features
        The customers' features as of ``as_of`` when already computed (e.g. by the online
        store, from the same query); otherwise they are computed here.
    """
    if features is None:
        features = customer_features(
            ledger, as_of, bundle.feature_config, active_only=active_only, customer_ids=customer_ids
        )
    prepared = prepare_scored_customers(bundle, ledger, as_of, features)
    return score_prepared(bundle, prepared, previous, open_alerts, comparison, lang)


def customer_response(
    result: CustomerScores, customer_id: str, bundle: ModelBundle, lang: str = "en"
) -> dict[str, Any]:
    """The ``POST /score`` body of one customer (DESIGN.md field names)."""
    return customer_responses(result, [customer_id], bundle, lang)[customer_id]


def customer_responses(
    result: CustomerScores, customer_ids: Sequence[str], bundle: ModelBundle, lang: str = "en"
) -> dict[str, dict[str, Any]]:
    """The ``POST /score`` body of each of ``customer_ids``, reading each table of ``result`` once.

    Raises
    ------
    KeyError
        For a customer ``result`` did not score.
    """
    labels = dict(zip(result.scores["customer_id"].tolist(), result.scores.index, strict=True))
    alerts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for alert in result.alerts.records():
        alerts[alert["customer_id"]].append(alert)
    invoices: dict[str, list[dict[str, Any]]] = defaultdict(list)
    owners = result.open_invoices["customer_id"].tolist()
    for owner, record in zip(
        owners, result.open_invoices.drop(columns="customer_id").to_dict("records"), strict=True
    ):
        invoices[owner].append(to_jsonable(record))
    bodies = {}
    for customer_id in customer_ids:
        label = labels[customer_id]
        row = result.scores.loc[label]
        recommendation = limit_rationale(result.limits.loc[label].to_dict(), bundle.policy, lang)
        bodies[customer_id] = {
            "customer_id": customer_id,
            "as_of": result.as_of.isoformat(),
            "pd_12m": float(row["pd_12m"]),
            "grade": int(row["grade"]),
            "basis": str(row["basis"]),
            "in_default": bool(row["in_default"]),
            "default_date": None if pd.isna(row["default_date"]) else row["default_date"].isoformat(),
            "recommended_limit": _number(row["recommended_limit"]),
            "current_limit": _number(row["current_limit"]),
            "limit_rationale": recommendation.rationale(),
            "alerts": alerts.get(customer_id, []),
            "reasons": row["reasons"],
            "open_invoices": invoices.get(customer_id, []),
            "model_version": bundle.model_version,
            "policy_version": bundle.policy.version,
            "notes": missing_model_notes(bundle, lang, invoices=customer_id in invoices),
        }
    return bodies


def missing_model_notes(
    bundle: ModelBundle, lang: str = "en", *, scores: bool = True, invoices: bool = True
) -> list[str]:
    """What an answer lacks for want of a model, in words (empty when nothing is missing).

    ``scores``: the answer grades customers (a note when the policy's rules do it);
    ``invoices``: it lists invoices (a note when they have no late-payment probabilities).
    """
    notes = []
    if scores and bundle.default is None:
        notes.append(render("note.rules_basis", lang))
    if invoices and bundle.late_payment is None:
        notes.append(render("note.no_late_payment_model", lang))
    return notes


def onboard(
    bundle: ModelBundle,
    application: Mapping[str, Any],
    requested_limit: float | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """The ``POST /onboard`` body: PD from application data only, grade, decision, initial limit and reasons.

    Without an onboarding model the grade comes from the policy's onboarding rules
    (``"basis": "rules"``, the grade's central PD on the master scale, no reasons beyond the rule steps); with one, ``"basis": "model"``.
    """
    model: CreditModel | None = bundle.onboarding
    if model is None:
        decision = decide_onboarding_by_rules(bundle.policy, application, requested_limit, lang)
        reasons: list[Any] = []
        model_version = "onboarding:"
    else:
        features = onboarding_features(application_row(application), model.feature_config)
        pd_12m = float(model.predict_proba(features)[0])
        decision = decide_onboarding(bundle.policy, pd_12m, requested_limit, application, lang)
        contributions, _ = model.contributions(features)
        reasons = reason_codes(contributions, model.feature_names, features[model.feature_names], lang=lang)[
            0
        ]
        model_version = f"onboarding:{bundle.versions.get('onboarding', '')}"
    return {
        "pd_12m": decision.pd_12m,
        "grade": decision.grade,
        "decision": decision.decision,
        "basis": "rules" if model is None else "model",
        "initial_limit": decision.initial_limit,
        "requested_limit": requested_limit,
        "rationale": decision.rationale(),
        "reasons": reasons,
        "model_version": model_version,
        "policy_version": bundle.policy.version,
    }


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
