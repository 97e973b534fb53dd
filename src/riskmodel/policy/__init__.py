"""Credit policy: master scale, credit limits, onboarding decisions, collection tiers and early-warning alerts.

One versioned YAML file (:func:`load_policy`) drives everything here; the online service
and batch rescoring call the same functions, so they always agree.
"""

from riskmodel.policy.alerts import AlertUpdate, evaluate_alerts, evaluate_customer_alerts
from riskmodel.policy.collection import collection_plan, collection_tier
from riskmodel.policy.config import Policy, load_policy, parse_policy
from riskmodel.policy.grades import grade_from_pd
from riskmodel.policy.limits import (
    LimitRecommendation,
    RationaleStep,
    limit_rationale,
    limit_rationale_texts,
    recommend_limit,
    recommend_limits,
)
from riskmodel.policy.onboarding import (
    DECISIONS,
    OnboardingDecision,
    decide_onboarding,
    decide_onboarding_by_rules,
)

__all__ = [
    "DECISIONS",
    "AlertUpdate",
    "LimitRecommendation",
    "OnboardingDecision",
    "Policy",
    "RationaleStep",
    "collection_plan",
    "collection_tier",
    "decide_onboarding",
    "decide_onboarding_by_rules",
    "evaluate_alerts",
    "evaluate_customer_alerts",
    "grade_from_pd",
    "limit_rationale",
    "limit_rationale_texts",
    "load_policy",
    "parse_policy",
    "recommend_limit",
    "recommend_limits",
]
