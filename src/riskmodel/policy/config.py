"""The credit policy: a versioned YAML file parsed once into frozen dataclasses.

The file holds the default definition's settings (dispute hold, cure period), the master
scale, the credit-limit formula and review rules, the onboarding decision bands, the
payment-behaviour rules that grade customers without a default model, the collection
ladder, the early-warning rules and the drift thresholds. :func:`load_policy` validates
it and names the key and the expectation in every error; :attr:`Policy.source_text` is
the file as read, for logging with a model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from riskmodel.exceptions import PolicyError
from riskmodel.labels import DefaultDefinition
from riskmodel.policy.grades import central_pd, grade_from_pd
from riskmodel.yamlconfig import parse_yaml_config, yaml_fields

N_GRADES = 10
Severity = Literal["info", "warning", "severe"]
Action = Literal[
    "monitor",
    "reminder",
    "call_and_order_hold",
    "stop_supply_and_formal_demand",
    "legal_action",
    "resolve_dispute",
    "review_credit",
]
Breach = Literal["freeze", "cut"]
SEVERITY_LEVELS: dict[str, int] = {"info": 1, "warning": 2, "severe": 3}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PolicyError(message)


def _is_increasing(values: tuple[float, ...]) -> bool:
    return all(later > earlier for earlier, later in zip(values, values[1:], strict=False))


def _check_share(value: float, key: str, allow_above_one: bool = False) -> None:
    upper_ok = allow_above_one or value <= 1
    _require(
        value >= 0 and upper_ok,
        f"{key} must be a share {'>= 0' if allow_above_one else 'within [0, 1]'}; got {value}",
    )


@dataclass(frozen=True)
class MasterScale:
    """Upper 12-month PD bound of each grade, grade 1 first; the last bound is 1."""

    upper_pd: tuple[float, ...]

    def __post_init__(self) -> None:
        key = "master_scale.upper_pd"
        _require(
            len(self.upper_pd) == N_GRADES,
            f"{key} must have {N_GRADES} increasing pd_12m upper bounds; got {len(self.upper_pd)}",
        )
        _require(
            _is_increasing(self.upper_pd),
            f"{key} must be strictly increasing (grade 1 is the best); got {list(self.upper_pd)}",
        )
        _require(self.upper_pd[0] > 0, f"{key}[0] must be above 0; got {self.upper_pd[0]}")
        _require(
            self.upper_pd[-1] == 1.0,
            f"{key}[{N_GRADES - 1}] must be 1.0 so that every PD has a grade; got {self.upper_pd[-1]}",
        )


@dataclass(frozen=True)
class CleanRecord:
    """A payment record clean enough for a limit to grow."""

    feature: str
    max_days_beyond_terms: float
    max_days_past_due: float


@dataclass(frozen=True)
class LimitReview:
    """How far and when a limit may move at a periodic review."""

    max_increase: float
    max_decrease: float
    past_due_feature: str
    past_due_days: int
    on_past_due: Breach
    on_severe_alert: Breach
    cut_factor: float
    clean_record: CleanRecord
    keep_max_grade: int = 0  # grades 1..keep_max_grade keep their current limit unless a breach rule applies

    def __post_init__(self) -> None:
        _require(
            0 <= self.keep_max_grade <= N_GRADES,
            f"credit_limit.review.keep_max_grade must be within 0..{N_GRADES}; got {self.keep_max_grade}",
        )
        _check_share(self.max_increase, "credit_limit.review.max_increase", allow_above_one=True)
        _check_share(self.max_decrease, "credit_limit.review.max_decrease")
        _check_share(self.cut_factor, "credit_limit.review.cut_factor")
        _require(
            self.past_due_days > 0,
            f"credit_limit.review.past_due_days must be positive; got {self.past_due_days}",
        )


@dataclass(frozen=True)
class CreditLimitPolicy:
    """Limit = trade need × grade headroom factor, capped by firmographics and a maximum.

    Trade need is the larger of the invoicing flow (monthly invoicing × the days the customer
    takes to pay / 30: its terms, or its DSO when longer) and the highest open balance observed
    (``exposure_features``); ``exposure_feature`` is the balance a limit below which stops supply.
    """

    volume_feature: str
    volume_window_days: int
    min_observed_days: int
    tenure_feature: str
    terms_feature: str
    default_terms_days: int
    grade_multiplier: tuple[float, ...]
    max_share_of_annual_revenue: float
    max_share_of_registered_capital: float
    max_limit: float
    rounding: float
    review: LimitReview
    days_to_pay_feature: str = ""  # e.g. dso_90d; empty: the payment terms alone
    exposure_features: tuple[str, ...] = ()  # e.g. open_balance, open_balance_prev_90d
    exposure_feature: str = ""  # e.g. open_balance; empty: no stop-supply check

    def __post_init__(self) -> None:
        key = "credit_limit"
        _require(
            0 < self.min_observed_days <= self.volume_window_days,
            f"{key}.min_observed_days must be within 1..volume_window_days ({self.volume_window_days}); got {self.min_observed_days}",
        )
        _require(
            self.default_terms_days > 0,
            f"{key}.default_terms_days must be positive; got {self.default_terms_days}",
        )
        _require(
            len(self.grade_multiplier) == N_GRADES,
            f"{key}.grade_multiplier must have {N_GRADES} values, one per grade; got {len(self.grade_multiplier)}",
        )
        _require(
            min(self.grade_multiplier) >= 0,
            f"{key}.grade_multiplier must not be negative; got {list(self.grade_multiplier)}",
        )
        _require(
            all(b <= a for a, b in zip(self.grade_multiplier, self.grade_multiplier[1:], strict=False)),
            f"{key}.grade_multiplier must not increase from grade 1 to grade {N_GRADES}; got {list(self.grade_multiplier)}",
        )
        _check_share(self.max_share_of_annual_revenue, f"{key}.max_share_of_annual_revenue")
        _check_share(
            self.max_share_of_registered_capital,
            f"{key}.max_share_of_registered_capital",
            allow_above_one=True,
        )
        _require(self.max_limit > 0, f"{key}.max_limit must be positive; got {self.max_limit}")
        _require(self.rounding > 0, f"{key}.rounding must be positive; got {self.rounding}")


@dataclass(frozen=True)
class RuleBand:
    """A value of at least ``at_least`` moves the grade by ``notches`` (negative: better)."""

    at_least: float
    notches: int


def _check_bands(bands: tuple[RuleBand, ...], key: str, higher_is_better: bool) -> None:
    """Bands listed from the highest ``at_least`` down, their notches ordered by the value's risk direction."""
    _require(len(bands) > 0, f"{key} must list at least one band {{at_least, notches}}")
    starts = [band.at_least for band in bands]
    _require(
        _is_increasing(tuple(reversed(starts))),
        f"{key}: at_least must be strictly decreasing (highest band first); got {starts}",
    )
    notches = [band.notches for band in bands]
    pairs = list(zip(notches, notches[1:], strict=False))
    if higher_is_better:
        _require(
            all(later >= earlier for earlier, later in pairs),
            f"{key}: notches must not decrease from the first band to the last "
            f"(a higher value never worsens the grade); got {notches}",
        )
    else:
        _require(
            all(later <= earlier for earlier, later in pairs),
            f"{key}: notches must not increase from the first band to the last "
            f"(a higher value never betters the grade); got {notches}",
        )


def band_of(bands: tuple[RuleBand, ...], value: float) -> int:
    """Index of the band ``value`` falls in: the first (highest) band it reaches; below them all, the last.

    Examples
    --------
    >>> bands = (RuleBand(61, 3), RuleBand(31, 2), RuleBand(0, 0))
    >>> band_of(bands, 61), band_of(bands, 60), band_of(bands, 0), band_of(bands, -5)
    (0, 1, 2, 2)
    """
    return next((i for i, band in enumerate(bands) if value >= band.at_least), len(bands) - 1)


RULE_FIELDS: tuple[str, ...] = ("bureau_score", "years_in_business", "annual_revenue")


@dataclass(frozen=True)
class OnboardingRules:
    """Grade of an application when no onboarding model is registered.

    Start at ``base_grade``; each known field of :data:`RULE_FIELDS` adds the notches of the
    first band (highest ``at_least`` first) its value reaches, or of the last band when it
    reaches none; a missing field adds nothing. The sum is clipped to grades 1..10.
    """

    base_grade: int
    bureau_score: tuple[RuleBand, ...]
    years_in_business: tuple[RuleBand, ...]
    annual_revenue: tuple[RuleBand, ...]

    def __post_init__(self) -> None:
        _require(
            1 <= self.base_grade <= N_GRADES,
            f"onboarding.rules.base_grade must be within 1..{N_GRADES}; got {self.base_grade}",
        )
        for name in RULE_FIELDS:
            _check_bands(getattr(self, name), f"onboarding.rules.{name}", higher_is_better=True)


@dataclass(frozen=True)
class OnboardingPolicy:
    """Decision bands by grade (approve ≤ review ≤ prepayment_or_guarantee < decline), initial limit caps
    and the rules that grade an application without an onboarding model."""

    approve_max_grade: int
    review_max_grade: int
    prepayment_max_grade: int
    max_initial_limit: tuple[float, ...]
    rules: OnboardingRules

    def __post_init__(self) -> None:
        key = "onboarding"
        bands = (self.approve_max_grade, self.review_max_grade, self.prepayment_max_grade)
        _require(
            all(0 <= grade <= N_GRADES for grade in bands),
            f"{key} band grades must be within 0..{N_GRADES}; got {list(bands)}",
        )
        _require(
            list(bands) == sorted(bands),
            f"{key}: approve_max_grade <= review_max_grade <= prepayment_max_grade must hold; got {list(bands)}",
        )
        _require(
            len(self.max_initial_limit) == N_GRADES,
            f"{key}.max_initial_limit must have {N_GRADES} values, one per grade; got {len(self.max_initial_limit)}",
        )
        _require(
            min(self.max_initial_limit) >= 0,
            f"{key}.max_initial_limit must not be negative; got {list(self.max_initial_limit)}",
        )


PAYMENT_RULE_NAMES: tuple[str, ...] = ("past_due", "paid_late", "days_beyond_terms", "disputes")


@dataclass(frozen=True)
class PaymentRule:
    """One step of the payment-behaviour grade: a customer feature and its bands (a higher value never betters the grade)."""

    feature: str
    bands: tuple[RuleBand, ...]


@dataclass(frozen=True)
class PaymentRules:
    """Grade of a customer from its payment behaviour when no default model is registered.

    Start at ``base_grade``; each rule of :data:`PAYMENT_RULE_NAMES` reads its customer
    feature (as of the scoring date, from the feature registry) and adds the notches of the
    first band (highest ``at_least`` first) the value reaches, or of the last band when it
    reaches none; a missing value (no open invoice, nothing paid in the window) adds nothing.
    The sum is clipped to grades 1..10 and ``pd_12m`` is the grade's central PD.
    """

    base_grade: int
    past_due: PaymentRule
    paid_late: PaymentRule
    days_beyond_terms: PaymentRule
    disputes: PaymentRule

    def __post_init__(self) -> None:
        _require(
            1 <= self.base_grade <= N_GRADES,
            f"payment_rules.base_grade must be within 1..{N_GRADES}; got {self.base_grade}",
        )
        for name in PAYMENT_RULE_NAMES:
            rule: PaymentRule = getattr(self, name)
            _require(bool(rule.feature.strip()), f"payment_rules.{name}.feature must name a customer feature")
            _check_bands(rule.bands, f"payment_rules.{name}.bands", higher_is_better=False)

    @property
    def rules(self) -> dict[str, PaymentRule]:
        """The rules by name, in the order they are applied."""
        return {name: getattr(self, name) for name in PAYMENT_RULE_NAMES}

    @property
    def features(self) -> list[str]:
        """The customer features the rules read."""
        return [rule.feature for rule in self.rules.values()]


@dataclass(frozen=True)
class CollectionTier:
    """A rung of the collection ladder, reached at ``min_days_past_due``."""

    min_days_past_due: int
    action: Action
    severity: Severity


@dataclass(frozen=True)
class CollectionPolicy:
    """Collection tiers 1..n by days past due (tier 0: not overdue) and the handling of disputes."""

    tiers: tuple[CollectionTier, ...]
    pause_on_dispute: bool
    dispute_action: Action

    def __post_init__(self) -> None:
        starts = tuple(tier.min_days_past_due for tier in self.tiers)
        _require(len(starts) > 0, "collection.tiers must list at least one tier")
        _require(starts[0] >= 1, f"collection.tiers[0].min_days_past_due must be at least 1; got {starts[0]}")
        _require(
            _is_increasing(starts),
            f"collection.tiers min_days_past_due must be strictly increasing; got {list(starts)}",
        )


@dataclass(frozen=True)
class ThresholdLevel:
    """One level of a threshold rule; the highest level reached raises the alert."""

    threshold: float
    severity: Severity
    action: Action


@dataclass(frozen=True)
class ThresholdRule:
    """Alert when ``feature`` reaches a threshold (levels increasing)."""

    feature: str
    levels: tuple[ThresholdLevel, ...]
    enabled: bool = True
    hold_ratio: float = (
        1.0  # an open alert stays open while the value is at least this share of its threshold
    )
    min_pd_12m: float = 0.0  # only customers whose 12-month PD is at least this (0: every customer)

    def __post_init__(self) -> None:
        _require(
            0 < self.hold_ratio <= 1,
            f"hold_ratio of the alert rule on {self.feature} must be in (0, 1]; got {self.hold_ratio}",
        )
        thresholds = tuple(level.threshold for level in self.levels)
        _require(
            len(thresholds) > 0, f"levels of the alert rule on {self.feature} must list at least one level"
        )
        _require(
            _is_increasing(thresholds),
            f"levels of the alert rule on {self.feature} must have strictly increasing thresholds; got {list(thresholds)}",
        )


@dataclass(frozen=True)
class PdJumpRule:
    """Alert when PD rose since the last score by at least both the relative and absolute amounts."""

    min_relative_increase: float
    min_absolute_increase: float
    severity: Severity
    action: Action
    enabled: bool = True


@dataclass(frozen=True)
class GradeDowngradeRule:
    """Alert when the grade worsened by at least ``notches`` since the last score."""

    notches: int
    severity: Severity
    action: Action
    enabled: bool = True

    def __post_init__(self) -> None:
        _require(self.notches >= 1, f"alerts.grade_downgrade.notches must be at least 1; got {self.notches}")


@dataclass(frozen=True)
class OverdueInvoiceRule:
    """One alert per customer whose undisputed open invoices reach collection tier ``min_tier``; severity and action from the highest tier reached."""

    min_tier: int
    enabled: bool = True


@dataclass(frozen=True)
class DisputeRule:
    """One alert per customer with open invoices in dispute, listing them."""

    severity: Severity
    action: Action
    enabled: bool = True


@dataclass(frozen=True)
class PaymentTrendRule:
    """Alert when recent days beyond terms exceed the longer history by ``min_increase_days``."""

    recent_feature: str
    history_feature: str
    min_increase_days: float
    min_recent_days: float
    severity: Severity
    action: Action
    enabled: bool = True


@dataclass(frozen=True)
class InDefaultRule:
    """One alert per customer in default (DESIGN.md "Targets"), in place of every other alert of that customer."""

    severity: Severity = "severe"
    action: Action = "stop_supply_and_formal_demand"
    enabled: bool = True


EXPECTED_LOSS = "expected_loss"  # 12-month PD x the exposure feature, computed by the alert rules


def _expected_loss_off() -> ThresholdRule:
    """An expected-loss rule that raises nothing: the default of policies that do not set one."""
    return ThresholdRule(
        feature=EXPECTED_LOSS, levels=(ThresholdLevel(1.0, "warning", "review_credit"),), enabled=False
    )


@dataclass(frozen=True)
class AlertPolicy:
    """The early-warning rules."""

    pd_jump: PdJumpRule
    grade_downgrade: GradeDowngradeRule
    pd_level: ThresholdRule
    overdue_invoice: OverdueInvoiceRule
    new_dispute: DisputeRule
    utilisation: ThresholdRule
    payment_trend: PaymentTrendRule
    in_default: InDefaultRule = field(default_factory=InDefaultRule)
    expected_loss: ThresholdRule = field(default_factory=_expected_loss_off)

    def __post_init__(self) -> None:
        _require(
            self.expected_loss.feature == EXPECTED_LOSS,
            f"alerts.expected_loss.feature must be {EXPECTED_LOSS!r} (12-month PD x credit_limit.exposure_feature); "
            f"got {self.expected_loss.feature!r}",
        )


@dataclass(frozen=True)
class DriftThresholds:
    """Population stability index levels for feature and score drift."""

    psi_warning: float
    psi_severe: float

    def __post_init__(self) -> None:
        _require(
            0 < self.psi_warning < self.psi_severe,
            f"drift: 0 < psi_warning < psi_severe must hold; got psi_warning={self.psi_warning}, psi_severe={self.psi_severe}",
        )


@dataclass(frozen=True)
class ReasonPolicy:
    """Which model reasons a decision shows."""

    min_contribution: float = 0.1  # log-odds: a reason that moves the score less is left out
    top_n: int = 4

    def __post_init__(self) -> None:
        _require(
            self.min_contribution >= 0,
            f"reasons.min_contribution must be 0 or more; got {self.min_contribution}",
        )
        _require(self.top_n >= 1, f"reasons.top_n must be at least 1; got {self.top_n}")


@dataclass(frozen=True)
class Policy:
    """A validated, versioned credit policy (see ``policy.yaml`` for the shipped default)."""

    version: str
    master_scale: MasterScale
    credit_limit: CreditLimitPolicy
    onboarding: OnboardingPolicy
    payment_rules: PaymentRules
    collection: CollectionPolicy
    alerts: AlertPolicy
    drift: DriftThresholds
    default: DefaultDefinition = field(default_factory=DefaultDefinition)
    reasons: ReasonPolicy = field(default_factory=ReasonPolicy)
    source_text: str = field(default="", compare=False, repr=False, metadata={"yaml": False})
    source_path: str | None = field(default=None, compare=False, metadata={"yaml": False})

    def __post_init__(self) -> None:
        _require(bool(self.version.strip()), "version must be a non-empty string such as '2026.11-1'")
        n_tiers = len(self.collection.tiers)
        _require(
            1 <= self.alerts.overdue_invoice.min_tier <= n_tiers,
            f"alerts.overdue_invoice.min_tier must be within 1..{n_tiers} (the collection tiers); got {self.alerts.overdue_invoice.min_tier}",
        )

    def grade(self, pd_12m: float | npt.ArrayLike) -> int | np.ndarray:
        """Risk grade 1..10 of a PD or of an array of PDs."""
        return grade_from_pd(pd_12m, self.master_scale.upper_pd)

    def central_pd(self, grade: int) -> float:
        """The PD grade ``grade`` stands for on the master scale (see :func:`~riskmodel.policy.grades.central_pd`)."""
        return central_pd(grade, self.master_scale.upper_pd)

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain data (lists, not tuples), as it would be written to YAML."""
        return {f.name: _plain(getattr(self, f.name)) for f in yaml_fields(Policy)}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in yaml_fields(type(value))}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def parse_policy(text: str, source: str = "<string>") -> Policy:
    """A :class:`Policy` from YAML text; ``source`` names the text in error messages."""
    policy = parse_yaml_config(Policy, text, source, PolicyError)
    return dataclasses.replace(policy, source_text=text, source_path=source)


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and validate a policy file; without ``path``, the default policy shipped with riskmodel."""
    if path is None:
        resource = resources.files("riskmodel.policy").joinpath("policy.yaml")
        return parse_policy(resource.read_text(encoding="utf-8"), source="riskmodel/policy/policy.yaml")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PolicyError(
            f"cannot read policy file {path}: {err.strerror}; pass the path of a policy YAML file"
        ) from err
    return parse_policy(text, source=str(path))
