"""Customer facts: limit utilisation, tenure, payment terms and firmographics from the customer row.

The firmographics and terms are what a credit application carries (the ``POST /onboard``
fields), so the onboarding model uses them too. The credit limit is not: it is granted
after the decision, so it stays out of the onboarding level. Directions are set only where
the domain is sure (a better bureau score, more years in business and a larger revenue
never raise risk); the GBM turns them into monotone constraints.
"""

from __future__ import annotations

import re

from riskmodel.features.definitions.base import Feature, FeatureConfig, Level, ratio
from riskmodel.ledger.schema import DATED_FIELDS

_WITH_ONBOARDING: tuple[Level, ...] = ("customer", "invoice", "onboarding")


def features(config: FeatureConfig) -> list[Feature]:
    """The customer-facts family (the same for every config)."""
    return [
        Feature(
            name="limit_utilisation",
            sql=ratio("open_balance", "credit_limit"),
            stage="derived",
            group="exposure",
            unit="share",
            direction=1,
            en="open balance as a share of the credit limit",
            zh="未结余额占信用额度比例",
        ),
        Feature(
            name="tenure_days",
            sql="tenure_days",
            stage="derived",
            group="size_and_age",
            unit="days",
            direction=-1,
            en="days since onboarding",
            zh="合作天数",
        ),
        Feature(
            name="payment_terms_days",
            sql="payment_terms_days",
            stage="derived",
            group="terms",
            unit="days",
            direction=0,
            en="standard payment terms",
            zh="标准账期天数",
            levels=_WITH_ONBOARDING,
        ),
        Feature(
            name="credit_limit",
            sql="credit_limit",
            stage="derived",
            group="exposure",
            unit="amount",
            direction=0,
            en="credit limit",
            zh="信用额度",
        ),
        Feature(
            name="annual_revenue",
            sql="annual_revenue",
            stage="derived",
            group="size_and_age",
            unit="amount",
            direction=-1,
            en="annual revenue",
            zh="年营业收入",
            levels=_WITH_ONBOARDING,
        ),
        Feature(
            name="years_in_business",
            sql="years_in_business",
            stage="derived",
            group="size_and_age",
            unit="years",
            direction=-1,
            en="years in business",
            zh="经营年限",
            levels=_WITH_ONBOARDING,
        ),
        Feature(
            name="employees",
            sql="employees",
            stage="derived",
            group="size_and_age",
            unit="count",
            direction=-1,
            en="number of employees",
            zh="员工人数",
            levels=_WITH_ONBOARDING,
        ),
        Feature(
            name="registered_capital",
            sql="registered_capital",
            stage="derived",
            group="size_and_age",
            unit="amount",
            direction=-1,
            en="registered capital",
            zh="注册资本",
            levels=_WITH_ONBOARDING,
        ),
        Feature(
            name="bureau_score",
            sql="bureau_score",
            stage="derived",
            group="bureau",
            unit="score",
            direction=-1,
            en="credit bureau score",
            zh="征信评分",
            levels=_WITH_ONBOARDING,
        ),
        Feature(
            name="industry",
            sql="industry",
            stage="derived",
            group="sector_and_country",
            unit="category",
            direction=0,
            en="industry",
            zh="行业",
            levels=_WITH_ONBOARDING,
            categorical=True,
        ),
        Feature(
            name="country",
            sql="country",
            stage="derived",
            group="sector_and_country",
            unit="category",
            direction=0,
            en="country",
            zh="国家",
            levels=_WITH_ONBOARDING,
            categorical=True,
        ),
    ]


def undated_features(features: tuple[Feature, ...]) -> tuple[Feature, ...]:
    """The features that read a dated customer fact (``DATED_FIELDS``) directly or through another feature.

    Without a ``customer_history`` table these read today's customers row at every past
    snapshot (a look-ahead); ``riskmodel train --exclude-undated`` leaves them out.
    """
    names = set(DATED_FIELDS)
    found = []
    for feature in features:  # registry order: a derived feature only refers to earlier ones
        if any(re.search(rf"\b{name}\b", feature.sql) for name in names):
            names.add(feature.name)
            found.append(feature)
    return tuple(found)
