"""Volume and DSO: amounts and counts invoiced, their growth, the average invoice, and days
sales outstanding now, 90 days ago and the change between the two."""

from __future__ import annotations

from riskmodel.features.definitions.base import Feature, FeatureConfig, case_when, ratio

# Invoices issued 90+ days ago that were neither settled nor written off by then.
_OPEN_90_DAYS_AGO = (
    "days_since_issue >= 90"
    " AND NOT (is_settled AND days_since_settled >= 90)"
    " AND NOT (is_written_off AND days_since_written_off >= 90)"
)


def features(config: FeatureConfig) -> list[Feature]:
    """The volume and DSO family (the long window is ``config.windows_days[-1]``)."""
    long = config.windows_days[-1]
    return [
        Feature(
            name="invoiced_amount_90d",
            sql=f"sum({case_when('days_since_issue < 90', 'amount', '0')})",
            stage="history",
            group="volume",
            unit="amount",
            direction=0,
            en="amount invoiced in the last 90 days",
            zh="近90天开票金额",
        ),
        Feature(
            name="invoiced_amount_prev_90d",
            sql=f"sum({case_when('days_since_issue BETWEEN 90 AND 179', 'amount', '0')})",
            stage="history",
            group="volume",
            unit="amount",
            direction=0,
            en="amount invoiced 90-180 days ago",
            zh="90-180天前开票金额",
        ),
        Feature(
            name=f"invoiced_amount_{long}d",
            sql=f"sum({case_when(f'days_since_issue < {long}', 'amount', '0')})",
            stage="history",
            group="volume",
            unit="amount",
            direction=0,
            en=f"amount invoiced in the last {long} days",
            zh=f"近{long}天开票金额",
        ),
        Feature(
            name=f"n_invoices_{long}d",
            sql=f"sum({case_when(f'days_since_issue < {long}', '1', '0')})",
            stage="history",
            group="volume",
            unit="count",
            direction=0,
            en=f"number of invoices in the last {long} days",
            zh=f"近{long}天发票数",
        ),
        Feature(
            name="n_invoices_lifetime",
            sql="count(*)",
            stage="history",
            group="volume",
            unit="count",
            direction=-1,
            en="number of invoices since onboarding",
            zh="合作以来发票总数",
        ),
        Feature(
            name="volume_growth_90d",
            sql=f"{ratio('invoiced_amount_90d', 'invoiced_amount_prev_90d')} - 1",
            stage="derived",
            group="volume",
            unit="share",
            direction=0,
            en="growth of invoiced amount: last 90 days against the 90 before",
            zh="近90天开票金额环比增长",
        ),
        Feature(
            name=f"avg_invoice_amount_{long}d",
            sql=ratio(f"invoiced_amount_{long}d", f"n_invoices_{long}d"),
            stage="derived",
            group="volume",
            unit="amount",
            direction=0,
            en=f"average invoice amount over the last {long} days",
            zh=f"近{long}天平均发票金额",
        ),
        Feature(
            name="open_balance_prev_90d",
            sql=f"sum({case_when(_OPEN_90_DAYS_AGO, 'GREATEST(amount - paid_prev_90d, 0)', '0')})",
            stage="history",
            group="dso",
            unit="amount",
            direction=1,
            en="open balance 90 days ago",
            zh="90天前的未结余额",
        ),
        Feature(
            name="dso_90d",
            sql=f"{ratio('open_balance', 'invoiced_amount_90d')} * 90",
            stage="derived",
            group="dso",
            unit="days",
            direction=1,
            en="days sales outstanding (last 90 days)",
            zh="应收账款周转天数（近90天）",
        ),
        Feature(
            name="dso_prev_90d",
            sql=f"{ratio('open_balance_prev_90d', 'invoiced_amount_prev_90d')} * 90",
            stage="derived",
            group="dso",
            unit="days",
            direction=1,
            en="days sales outstanding 90 days ago",
            zh="90天前的应收账款周转天数",
        ),
        Feature(
            name="dso_trend_90d",
            sql="dso_90d - dso_prev_90d",
            stage="derived",
            group="dso",
            unit="days",
            direction=1,
            en="change of days sales outstanding over the last 90 days",
            zh="应收账款周转天数近90天变化",
        ),
    ]
