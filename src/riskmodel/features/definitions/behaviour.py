"""Payment behaviour: days beyond terms and the share of invoices paid late, per window and
over the last ``last_n`` paid invoices, and the trend between the shortest and longest window."""

from __future__ import annotations

from riskmodel.features.definitions.base import SETTLED_IN, Feature, FeatureConfig, case_when, ratio


def features(config: FeatureConfig) -> list[Feature]:
    """The payment-behaviour family for ``config.windows_days`` and ``config.last_n``."""
    family: list[Feature] = []
    for w in config.windows_days:
        settled = SETTLED_IN.format(w=w)
        family += [
            Feature(
                name=f"days_beyond_terms_mean_{w}d",
                sql=ratio(
                    f"sum({case_when(settled, 'days_beyond_terms * amount')})",
                    f"sum({case_when(settled, 'amount')})",
                ),
                stage="history",
                group="payment_delay",
                unit="days",
                direction=1,
                en=f"average days beyond terms of invoices paid in the last {w} days (amount-weighted)",
                zh=f"近{w}天已付发票的平均超期天数（按金额加权）",
            ),
            Feature(
                name=f"days_beyond_terms_max_{w}d",
                sql=f"max({case_when(settled, 'days_beyond_terms')})",
                stage="history",
                group="payment_delay",
                unit="days",
                direction=1,
                en=f"longest days beyond terms of invoices paid in the last {w} days",
                zh=f"近{w}天已付发票的最长超期天数",
            ),
            Feature(
                name=f"share_paid_late_{w}d",
                sql=ratio(
                    f"sum({case_when(f'{settled} AND days_beyond_terms > 0', '1', '0')})",
                    f"sum({case_when(settled, '1', '0')})",
                ),
                stage="history",
                group="payment_delay",
                unit="share",
                direction=1,
                en=f"share of invoices paid late in the last {w} days",
                zh=f"近{w}天逾期付款发票占比",
            ),
            Feature(
                name=f"share_paid_late_30_{w}d",
                sql=ratio(
                    f"sum({case_when(f'{settled} AND days_beyond_terms > 30', '1', '0')})",
                    f"sum({case_when(settled, '1', '0')})",
                ),
                stage="history",
                group="payment_delay",
                unit="share",
                direction=1,
                en=f"share of invoices paid 30+ days late in the last {w} days",
                zh=f"近{w}天逾期30天以上付款发票占比",
            ),
        ]
    short, long = config.windows_days[0], config.windows_days[-1]
    last_n = config.last_n
    family += [
        Feature(
            name=f"days_beyond_terms_trend_{short}_{long}",
            sql=f"days_beyond_terms_mean_{short}d - days_beyond_terms_mean_{long}d",
            stage="derived",
            group="payment_trend",
            unit="days",
            direction=1,
            en=f"change of average days beyond terms: last {short} days against last {long} days",
            zh=f"平均超期天数变化：近{short}天对比近{long}天",
        ),
        Feature(
            name=f"days_beyond_terms_mean_last{last_n}",
            sql="avg(days_beyond_terms)",
            stage="recent",
            group="payment_delay",
            unit="days",
            direction=1,
            en=f"average days beyond terms of the last {last_n} paid invoices",
            zh=f"最近{last_n}张已付发票的平均超期天数",
        ),
        Feature(
            name=f"days_beyond_terms_max_last{last_n}",
            sql="max(days_beyond_terms)",
            stage="recent",
            group="payment_delay",
            unit="days",
            direction=1,
            en=f"longest days beyond terms of the last {last_n} paid invoices",
            zh=f"最近{last_n}张已付发票的最长超期天数",
        ),
    ]
    return family
