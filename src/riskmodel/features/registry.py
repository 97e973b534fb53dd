"""The feature registry: every model feature, defined once as portable SQL, with its meaning.

Each :class:`Feature` carries the SQL that computes it (over the per-snapshot history
rows built in :mod:`riskmodel.features.query`), a plain-language description in English
and Chinese, its unit, and the direction in which it raises risk. Training, batch
rescoring, the online service and reason codes all read this one list.

Stages
------
``history``  an aggregate over the snapshot's history rows (columns listed in ``HISTORY_COLUMNS``)
``recent``   an aggregate over the last ``last_n`` settled invoices
``events``   an aggregate over the customer's credit events up to ``as_of``
``derived``  an expression over the features of the earlier stages and the customer row
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Stage = Literal["history", "recent", "events", "derived"]
Level = Literal["customer", "invoice", "onboarding"]

AGING_BUCKETS: tuple[tuple[str, str, str, str], ...] = (
    # name, condition on days_past_due, English, Chinese
    ("current", "days_past_due <= 0", "not yet due", "未到期"),
    ("1_30", "days_past_due BETWEEN 1 AND 30", "1-30 days past due", "逾期1-30天"),
    ("31_60", "days_past_due BETWEEN 31 AND 60", "31-60 days past due", "逾期31-60天"),
    ("61_90", "days_past_due BETWEEN 61 AND 90", "61-90 days past due", "逾期61-90天"),
    ("90_plus", "days_past_due > 90", "more than 90 days past due", "逾期90天以上"),
)


@dataclass(frozen=True)
class Feature:
    """One feature: its SQL, where it is computed, and what it means to a credit officer.

    ``direction`` is +1 when a higher value raises risk, -1 when it lowers risk, 0 when
    the domain is not sure (the model learns it; no monotone constraint is set).
    """

    name: str
    sql: str
    stage: Stage
    group: str
    unit: str
    direction: int
    en: str
    zh: str
    levels: tuple[Level, ...] = ("customer", "invoice")
    categorical: bool = False


@dataclass(frozen=True)
class FeatureConfig:
    """Windows and counts the registry is built from (``features.*`` params in MLflow)."""

    windows_days: tuple[int, ...] = (90, 180, 365)
    last_n: int = 5
    active_window_days: int = 365
    similar_size_ratio: float = 2.0

    def __post_init__(self) -> None:
        if (
            not self.windows_days
            or sorted(set(self.windows_days)) != list(self.windows_days)
            or self.windows_days[0] <= 0
        ):
            raise ValueError(f"windows_days must be increasing positive day counts; got {self.windows_days}")
        if self.last_n < 1:
            raise ValueError(f"last_n must be at least 1; got {self.last_n}")
        if self.similar_size_ratio <= 1:
            raise ValueError(f"similar_size_ratio must be above 1; got {self.similar_size_ratio}")


def _when(condition: str, value: str, otherwise: str = "NULL") -> str:
    return f"CASE WHEN {condition} THEN {value} ELSE {otherwise} END"


def _ratio(numerator: str, denominator: str) -> str:
    return f"CAST({numerator} AS DOUBLE) / NULLIF({denominator}, 0)"


SETTLED_IN = "is_settled AND days_since_settled < {w}"


def _aging_features() -> list[Feature]:
    features = [
        Feature(
            "open_balance", "sum(open_amount)", "history", "exposure", "amount", 1, "open balance", "未结余额"
        ),
        Feature(
            "n_invoices_open",
            f"sum({_when('is_open', '1', '0')})",
            "history",
            "exposure",
            "count",
            1,
            "number of open invoices",
            "未结发票数",
        ),
        Feature(
            "n_invoices_overdue",
            f"sum({_when('is_open AND days_past_due > 0', '1', '0')})",
            "history",
            "aging",
            "count",
            1,
            "number of overdue invoices",
            "逾期发票数",
        ),
        Feature(
            "max_days_past_due",
            f"max({_when('is_open', 'days_past_due')})",
            "history",
            "aging",
            "days",
            1,
            "days past due of the oldest open invoice",
            "最久未结发票的逾期天数",
        ),
    ]
    for bucket, condition, en, zh in AGING_BUCKETS:
        direction = -1 if bucket == "current" else 1
        features.append(
            Feature(
                f"open_amount_{bucket}",
                f"sum({_when(f'is_open AND {condition}', 'open_amount', '0')})",
                "history",
                "aging",
                "amount",
                direction,
                f"open amount {en}",
                f"{zh}未结金额",
            )
        )
    for bucket, _, en, zh in AGING_BUCKETS:
        direction = -1 if bucket == "current" else 1
        features.append(
            Feature(
                f"share_{bucket}",
                _ratio(f"open_amount_{bucket}", "open_balance"),
                "derived",
                "aging",
                "share",
                direction,
                f"share of the open balance {en}",
                f"{zh}金额占未结余额比例",
            )
        )
    features.append(
        Feature(
            "overdue_share",
            f"1 - {_ratio('open_amount_current', 'open_balance')}",
            "derived",
            "aging",
            "share",
            1,
            "share of the open balance that is overdue",
            "逾期金额占未结余额比例",
        )
    )
    return features


def _behaviour_features(config: FeatureConfig) -> list[Feature]:
    features = []
    for w in config.windows_days:
        settled = SETTLED_IN.format(w=w)
        features += [
            Feature(
                f"days_beyond_terms_mean_{w}d",
                _ratio(
                    f"sum({_when(settled, 'days_beyond_terms * amount')})", f"sum({_when(settled, 'amount')})"
                ),
                "history",
                "payment_delay",
                "days",
                1,
                f"average days beyond terms of invoices paid in the last {w} days (amount-weighted)",
                f"近{w}天已付发票的平均超期天数（按金额加权）",
            ),
            Feature(
                f"days_beyond_terms_max_{w}d",
                f"max({_when(settled, 'days_beyond_terms')})",
                "history",
                "payment_delay",
                "days",
                1,
                f"longest days beyond terms of invoices paid in the last {w} days",
                f"近{w}天已付发票的最长超期天数",
            ),
            Feature(
                f"share_paid_late_{w}d",
                _ratio(
                    f"sum({_when(f'{settled} AND days_beyond_terms > 0', '1', '0')})",
                    f"sum({_when(settled, '1', '0')})",
                ),
                "history",
                "payment_delay",
                "share",
                1,
                f"share of invoices paid late in the last {w} days",
                f"近{w}天逾期付款发票占比",
            ),
            Feature(
                f"share_paid_late_30_{w}d",
                _ratio(
                    f"sum({_when(f'{settled} AND days_beyond_terms > 30', '1', '0')})",
                    f"sum({_when(settled, '1', '0')})",
                ),
                "history",
                "payment_delay",
                "share",
                1,
                f"share of invoices paid 30+ days late in the last {w} days",
                f"近{w}天逾期30天以上付款发票占比",
            ),
        ]
    short, long = config.windows_days[0], config.windows_days[-1]
    features += [
        Feature(
            f"days_beyond_terms_trend_{short}_{long}",
            f"days_beyond_terms_mean_{short}d - days_beyond_terms_mean_{long}d",
            "derived",
            "payment_trend",
            "days",
            1,
            f"change of average days beyond terms: last {short} days against last {long} days",
            f"平均超期天数变化：近{short}天对比近{long}天",
        ),
        Feature(
            f"days_beyond_terms_mean_last{config.last_n}",
            "avg(days_beyond_terms)",
            "recent",
            "payment_delay",
            "days",
            1,
            f"average days beyond terms of the last {config.last_n} paid invoices",
            f"最近{config.last_n}张已付发票的平均超期天数",
        ),
        Feature(
            f"days_beyond_terms_max_last{config.last_n}",
            "max(days_beyond_terms)",
            "recent",
            "payment_delay",
            "days",
            1,
            f"longest days beyond terms of the last {config.last_n} paid invoices",
            f"最近{config.last_n}张已付发票的最长超期天数",
        ),
    ]
    return features


def _volume_features(config: FeatureConfig) -> list[Feature]:
    long = config.windows_days[-1]
    return [
        Feature(
            "invoiced_amount_90d",
            f"sum({_when('days_since_issue < 90', 'amount', '0')})",
            "history",
            "volume",
            "amount",
            0,
            "amount invoiced in the last 90 days",
            "近90天开票金额",
        ),
        Feature(
            "invoiced_amount_prev_90d",
            f"sum({_when('days_since_issue BETWEEN 90 AND 179', 'amount', '0')})",
            "history",
            "volume",
            "amount",
            0,
            "amount invoiced 90-180 days ago",
            "90-180天前开票金额",
        ),
        Feature(
            f"invoiced_amount_{long}d",
            f"sum({_when(f'days_since_issue < {long}', 'amount', '0')})",
            "history",
            "volume",
            "amount",
            0,
            f"amount invoiced in the last {long} days",
            f"近{long}天开票金额",
        ),
        Feature(
            f"n_invoices_{long}d",
            f"sum({_when(f'days_since_issue < {long}', '1', '0')})",
            "history",
            "volume",
            "count",
            0,
            f"number of invoices in the last {long} days",
            f"近{long}天发票数",
        ),
        Feature(
            "n_invoices_lifetime",
            "count(*)",
            "history",
            "volume",
            "count",
            -1,
            "number of invoices since onboarding",
            "合作以来发票总数",
        ),
        Feature(
            "volume_growth_90d",
            f"{_ratio('invoiced_amount_90d', 'invoiced_amount_prev_90d')} - 1",
            "derived",
            "volume",
            "share",
            0,
            "growth of invoiced amount: last 90 days against the 90 before",
            "近90天开票金额环比增长",
        ),
        Feature(
            f"avg_invoice_amount_{long}d",
            _ratio(f"invoiced_amount_{long}d", f"n_invoices_{long}d"),
            "derived",
            "volume",
            "amount",
            0,
            f"average invoice amount over the last {long} days",
            f"近{long}天平均发票金额",
        ),
        Feature(
            "open_balance_prev_90d",
            f"sum({_when('days_since_issue >= 90 AND NOT (is_settled AND days_since_settled >= 90) AND NOT (is_written_off AND days_since_written_off >= 90)', 'GREATEST(amount - paid_prev_90d, 0)', '0')})",
            "history",
            "dso",
            "amount",
            1,
            "open balance 90 days ago",
            "90天前的未结余额",
        ),
        Feature(
            "dso_90d",
            f"{_ratio('open_balance', 'invoiced_amount_90d')} * 90",
            "derived",
            "dso",
            "days",
            1,
            "days sales outstanding (last 90 days)",
            "应收账款周转天数（近90天）",
        ),
        Feature(
            "dso_prev_90d",
            f"{_ratio('open_balance_prev_90d', 'invoiced_amount_prev_90d')} * 90",
            "derived",
            "dso",
            "days",
            1,
            "days sales outstanding 90 days ago",
            "90天前的应收账款周转天数",
        ),
        Feature(
            "dso_trend_90d",
            "dso_90d - dso_prev_90d",
            "derived",
            "dso",
            "days",
            1,
            "change of days sales outstanding over the last 90 days",
            "应收账款周转天数近90天变化",
        ),
    ]


def _recency_dispute_partial_features(config: FeatureConfig) -> list[Feature]:
    long = config.windows_days[-1]
    settled_long = SETTLED_IN.format(w=long)
    return [
        Feature(
            "days_since_last_payment",
            "min(days_since_last_payment)",
            "history",
            "recency",
            "days",
            1,
            "days since the last payment",
            "距上次付款天数",
        ),
        Feature(
            "days_since_last_late_payment",
            f"min({_when('is_settled AND days_beyond_terms > 0', 'days_since_settled')})",
            "history",
            "recency",
            "days",
            -1,
            "days since the last invoice paid late",
            "距上次逾期付款天数",
        ),
        Feature(
            "days_since_last_invoice",
            "min(days_since_issue)",
            "history",
            "recency",
            "days",
            0,
            "days since the last invoice",
            "距上次开票天数",
        ),
        Feature(
            f"n_disputes_{long}d",
            f"sum({_when(f'is_disputed AND days_since_dispute < {long}', '1', '0')})",
            "history",
            "disputes",
            "count",
            1,
            f"disputes raised in the last {long} days",
            f"近{long}天发起的争议数",
        ),
        Feature(
            "n_disputes_open",
            f"sum({_when('is_open AND is_disputed', '1', '0')})",
            "history",
            "disputes",
            "count",
            1,
            "open invoices in dispute",
            "争议中的未结发票数",
        ),
        Feature(
            "n_invoices_part_paid_open",
            f"sum({_when('is_open AND paid > 0', '1', '0')})",
            "history",
            "partial_payment",
            "count",
            1,
            "open invoices that are partly paid",
            "部分付款的未结发票数",
        ),
        Feature(
            f"share_paid_in_instalments_{long}d",
            _ratio(
                f"sum({_when(f'{settled_long} AND n_payments > 1', '1', '0')})",
                f"sum({_when(settled_long, '1', '0')})",
            ),
            "history",
            "partial_payment",
            "share",
            1,
            f"share of invoices paid in instalments in the last {long} days",
            f"近{long}天分期付款发票占比",
        ),
        Feature(
            "n_invoices_written_off",
            f"sum({_when('is_written_off', '1', '0')})",
            "history",
            "credit_events",
            "count",
            1,
            "invoices written off",
            "已核销发票数",
        ),
        Feature(
            "n_credit_events",
            "count(*)",
            "events",
            "credit_events",
            "count",
            1,
            "credit events (legal action, restructuring, ...)",
            "信用事件数（法律诉讼、重组等）",
        ),
    ]


def _customer_features() -> list[Feature]:
    both: tuple[Level, ...] = ("customer", "invoice", "onboarding")
    return [
        Feature(
            "limit_utilisation",
            _ratio("open_balance", "credit_limit"),
            "derived",
            "exposure",
            "share",
            1,
            "open balance as a share of the credit limit",
            "未结余额占信用额度比例",
        ),
        Feature(
            "tenure_days",
            "tenure_days",
            "derived",
            "firmographics",
            "days",
            -1,
            "days since onboarding",
            "合作天数",
        ),
        Feature(
            "payment_terms_days",
            "payment_terms_days",
            "derived",
            "terms",
            "days",
            0,
            "standard payment terms",
            "标准账期天数",
            levels=both,
        ),
        Feature(
            "credit_limit",
            "credit_limit",
            "derived",
            "firmographics",
            "amount",
            0,
            "credit limit",
            "信用额度",
            levels=both,
        ),
        Feature(
            "annual_revenue",
            "annual_revenue",
            "derived",
            "firmographics",
            "amount",
            -1,
            "annual revenue",
            "年营业收入",
            levels=both,
        ),
        Feature(
            "years_in_business",
            "years_in_business",
            "derived",
            "firmographics",
            "years",
            -1,
            "years in business",
            "经营年限",
            levels=both,
        ),
        Feature(
            "employees",
            "employees",
            "derived",
            "firmographics",
            "count",
            -1,
            "number of employees",
            "员工人数",
            levels=both,
        ),
        Feature(
            "registered_capital",
            "registered_capital",
            "derived",
            "firmographics",
            "amount",
            -1,
            "registered capital",
            "注册资本",
            levels=both,
        ),
        Feature(
            "bureau_score",
            "bureau_score",
            "derived",
            "firmographics",
            "score",
            -1,
            "credit bureau score",
            "征信评分",
            levels=both,
        ),
        Feature(
            "industry",
            "industry",
            "derived",
            "firmographics",
            "category",
            0,
            "industry",
            "行业",
            levels=both,
            categorical=True,
        ),
        Feature(
            "country",
            "country",
            "derived",
            "firmographics",
            "category",
            0,
            "country",
            "国家",
            levels=both,
            categorical=True,
        ),
    ]


def _invoice_features(config: FeatureConfig) -> list[Feature]:
    long = config.windows_days[-1]
    r = config.similar_size_ratio
    similar = f"is_settled AND amount BETWEEN invoice_amount / {r} AND invoice_amount * {r}"
    only: tuple[Level, ...] = ("invoice",)
    return [
        Feature(
            "invoice_amount",
            "invoice_amount",
            "derived",
            "invoice",
            "amount",
            0,
            "invoice amount",
            "发票金额",
            levels=only,
        ),
        Feature(
            "invoice_terms_days",
            "invoice_terms_days",
            "derived",
            "invoice",
            "days",
            0,
            "payment terms of the invoice",
            "发票账期天数",
            levels=only,
        ),
        Feature(
            "invoice_issue_month",
            "invoice_issue_month",
            "derived",
            "invoice",
            "month",
            0,
            "month the invoice was issued",
            "开票月份",
            levels=only,
        ),
        Feature(
            "invoice_amount_to_avg",
            _ratio("invoice_amount", f"avg_invoice_amount_{long}d"),
            "derived",
            "invoice",
            "ratio",
            1,
            "invoice amount against the customer's usual amount",
            "发票金额相对客户平均发票金额",
            levels=only,
        ),
        Feature(
            "invoice_open_share_added",
            _ratio("invoice_amount", "open_balance + invoice_amount"),
            "derived",
            "invoice",
            "share",
            0,
            "share of the open balance this invoice adds",
            "本发票占开票后未结余额比例",
            levels=only,
        ),
        Feature(
            "days_beyond_terms_mean_similar_size",
            _ratio(
                f"sum({_when(similar, 'days_beyond_terms * amount')})", f"sum({_when(similar, 'amount')})"
            ),
            "history",
            "payment_delay",
            "days",
            1,
            "average days beyond terms on past invoices of similar size",
            "以往相近金额发票的平均超期天数",
            levels=only,
        ),
    ]


def build_registry(config: FeatureConfig | None = None) -> tuple[Feature, ...]:
    """All features for the given windows, in a stable order (names unique)."""
    config = config or FeatureConfig()
    features = (
        _aging_features()
        + _behaviour_features(config)
        + _volume_features(config)
        + _recency_dispute_partial_features(config)
        + _customer_features()
        + _invoice_features(config)
    )
    names = [f.name for f in features]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ValueError(f"feature names must be unique; repeated: {sorted(duplicated)}")
    return tuple(features)


def features_for(level: Level, config: FeatureConfig | None = None) -> tuple[Feature, ...]:
    """The features a model of ``level`` uses."""
    return tuple(f for f in build_registry(config) if level in f.levels)


def describe(feature_name: str, lang: Literal["en", "zh"] = "en", config: FeatureConfig | None = None) -> str:
    """Plain-language description of a feature in English or Chinese."""
    for feature in build_registry(config):
        if feature.name == feature_name:
            return feature.zh if lang == "zh" else feature.en
    raise KeyError(f"unknown feature '{feature_name}'")
