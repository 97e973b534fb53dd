"""Open balance and its aging: open invoices, days past due, open amount and share per aging bucket.

Also holds the ``exposure`` features the aging shares are taken of (open balance, open invoices).
"""

from __future__ import annotations

from riskmodel.features.definitions.base import AGING_BUCKETS, Feature, FeatureConfig, case_when, ratio


def features(config: FeatureConfig) -> list[Feature]:
    """The aging family (the same for every config)."""
    family = [
        Feature(
            name="open_balance",
            sql="sum(open_amount)",
            stage="history",
            group="exposure",
            unit="amount",
            direction=1,
            en="open balance",
            zh="未结余额",
        ),
        Feature(
            name="n_invoices_open",
            sql=f"sum({case_when('is_open', '1', '0')})",
            stage="history",
            group="exposure",
            unit="count",
            direction=1,
            en="number of open invoices",
            zh="未结发票数",
        ),
        Feature(
            name="n_invoices_overdue",
            sql=f"sum({case_when('is_open AND days_past_due > 0', '1', '0')})",
            stage="history",
            group="aging",
            unit="count",
            direction=1,
            en="number of overdue invoices",
            zh="逾期发票数",
        ),
        Feature(
            name="max_days_past_due",
            sql=f"max({case_when('is_open', 'days_past_due')})",
            stage="history",
            group="aging",
            unit="days",
            direction=1,
            en="days past due of the oldest open invoice",
            zh="最久未结发票的逾期天数",
        ),
    ]
    for bucket, condition, en, zh in AGING_BUCKETS:
        family.append(
            Feature(
                name=f"open_amount_{bucket}",
                sql=f"sum({case_when(f'is_open AND {condition}', 'open_amount', '0')})",
                stage="history",
                group="aging",
                unit="amount",
                direction=-1 if bucket == "current" else 1,
                en=f"open amount {en}",
                zh=f"{zh}未结金额",
            )
        )
    for bucket, _, en, zh in AGING_BUCKETS:
        family.append(
            Feature(
                name=f"share_{bucket}",
                sql=ratio(f"open_amount_{bucket}", "open_balance"),
                stage="derived",
                group="aging",
                unit="share",
                direction=-1 if bucket == "current" else 1,
                en=f"share of the open balance {en}",
                zh=f"{zh}金额占未结余额比例",
            )
        )
    family.append(
        Feature(
            name="overdue_share",
            sql=f"1 - {ratio('open_amount_current', 'open_balance')}",
            stage="derived",
            group="aging",
            unit="share",
            direction=1,
            en="share of the open balance that is overdue",
            zh="逾期金额占未结余额比例",
        )
    )
    return family
