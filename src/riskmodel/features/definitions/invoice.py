"""Invoice features (invoice-level models only): the invoice's amount, terms and month, its size
against the customer's usual invoice and open balance, and past lateness on invoices of similar size."""

from __future__ import annotations

from riskmodel.features.definitions.base import Feature, FeatureConfig, Level, case_when, ratio

_INVOICE_ONLY: tuple[Level, ...] = ("invoice",)


def features(config: FeatureConfig) -> list[Feature]:
    """The invoice family (long window ``windows_days[-1]``, ``similar_size_ratio``)."""
    long = config.windows_days[-1]
    r = config.similar_size_ratio
    similar = f"is_settled AND amount BETWEEN invoice_amount / {r} AND invoice_amount * {r}"
    return [
        Feature(
            name="invoice_amount",
            sql="invoice_amount",
            stage="derived",
            group="invoice",
            unit="amount",
            direction=0,
            en="invoice amount",
            zh="发票金额",
            levels=_INVOICE_ONLY,
        ),
        Feature(
            name="invoice_terms_days",
            sql="invoice_terms_days",
            stage="derived",
            group="invoice",
            unit="days",
            direction=0,
            en="payment terms of the invoice",
            zh="发票账期天数",
            levels=_INVOICE_ONLY,
        ),
        Feature(
            name="invoice_issue_month",
            sql="invoice_issue_month",
            stage="derived",
            group="invoice",
            unit="month",
            direction=0,
            en="month the invoice was issued",
            zh="开票月份",
            levels=_INVOICE_ONLY,
        ),
        Feature(
            name="invoice_amount_to_avg",
            sql=ratio("invoice_amount", f"avg_invoice_amount_{long}d"),
            stage="derived",
            group="invoice",
            unit="ratio",
            direction=1,
            en="invoice amount against the customer's usual amount",
            zh="发票金额相对客户平均发票金额",
            levels=_INVOICE_ONLY,
        ),
        Feature(
            name="invoice_open_share_added",
            sql=ratio("invoice_amount", "open_balance + invoice_amount"),
            stage="derived",
            group="invoice",
            unit="share",
            direction=0,
            en="share of the open balance this invoice adds",
            zh="本发票占开票后未结余额比例",
            levels=_INVOICE_ONLY,
        ),
        Feature(
            name="days_beyond_terms_mean_similar_size",
            sql=ratio(
                f"sum({case_when(similar, 'days_beyond_terms * amount')})",
                f"sum({case_when(similar, 'amount')})",
            ),
            stage="history",
            group="payment_delay",
            unit="days",
            direction=1,
            en="average days beyond terms on past invoices of similar size",
            zh="以往相近金额发票的平均超期天数",
            levels=_INVOICE_ONLY,
        ),
    ]
