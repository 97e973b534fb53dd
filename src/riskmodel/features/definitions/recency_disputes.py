"""Recency, disputes, partial payments and credit events: days since the last payment, late
payment and invoice; disputes raised and open; part-paid and instalment invoices; write-offs
and credit events."""

from __future__ import annotations

from riskmodel.features.definitions.base import SETTLED_IN, Feature, FeatureConfig, case_when, ratio


def features(config: FeatureConfig) -> list[Feature]:
    """The recency, disputes, partial-payment and credit-event family (long window ``windows_days[-1]``)."""
    long = config.windows_days[-1]
    settled_long = SETTLED_IN.format(w=long)
    return [
        Feature(
            name="days_since_last_payment",
            sql="min(days_since_last_payment)",
            stage="history",
            group="recency",
            unit="days",
            direction=1,
            en="days since the last payment",
            zh="距上次付款天数",
        ),
        Feature(
            name="days_since_last_late_payment",
            sql=f"min({case_when('is_settled AND days_beyond_terms > 0', 'days_since_settled')})",
            stage="history",
            group="recency",
            unit="days",
            direction=-1,
            en="days since the last invoice paid late",
            zh="距上次逾期付款天数",
        ),
        Feature(
            name="days_since_last_invoice",
            sql="min(days_since_issue)",
            stage="history",
            group="recency",
            unit="days",
            direction=0,
            en="days since the last invoice",
            zh="距上次开票天数",
        ),
        Feature(
            name=f"n_disputes_{long}d",
            sql=f"sum({case_when(f'is_disputed AND days_since_dispute < {long}', '1', '0')})",
            stage="history",
            group="disputes",
            unit="count",
            direction=1,
            en=f"disputes raised in the last {long} days",
            zh=f"近{long}天发起的争议数",
        ),
        Feature(
            name="n_disputes_open",
            sql=f"sum({case_when('is_open AND is_disputed', '1', '0')})",
            stage="history",
            group="disputes",
            unit="count",
            direction=1,
            en="open invoices in dispute",
            zh="争议中的未结发票数",
        ),
        Feature(
            name="n_invoices_part_paid_open",
            sql=f"sum({case_when('is_open AND paid > 0', '1', '0')})",
            stage="history",
            group="partial_payment",
            unit="count",
            direction=1,
            en="open invoices that are partly paid",
            zh="部分付款的未结发票数",
        ),
        Feature(
            name=f"share_paid_in_instalments_{long}d",
            sql=ratio(
                f"sum({case_when(f'{settled_long} AND n_payments > 1', '1', '0')})",
                f"sum({case_when(settled_long, '1', '0')})",
            ),
            stage="history",
            group="partial_payment",
            unit="share",
            direction=1,
            en=f"share of invoices paid in instalments in the last {long} days",
            zh=f"近{long}天分期付款发票占比",
        ),
        Feature(
            name="n_invoices_written_off",
            sql=f"sum({case_when('is_written_off', '1', '0')})",
            stage="history",
            group="credit_events",
            unit="count",
            direction=1,
            en="invoices written off",
            zh="已核销发票数",
        ),
        Feature(
            name="n_credit_events",
            sql="count(*)",
            stage="events",
            group="credit_events",
            unit="count",
            direction=1,
            en="credit events (legal action, restructuring, ...)",
            zh="信用事件数（法律诉讼、重组等）",
        ),
    ]
