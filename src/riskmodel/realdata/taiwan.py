"""The Taiwan credit-card default set (UCI, Yeh & Lien 2009) as a customer-level default model.

Six monthly statements (September back to April 2005) stand in for a customer's payment
history; month ``m1`` is the latest (September: ``PAY_0``, ``BILL_AMT1``, ``PAY_AMT1``) and
``m6`` the earliest. A repayment status of ``k >= 1`` months of delay counts as ``30 * k``
days beyond terms; the undocumented -2 (no consumption), -1 (paid duly) and 0 (revolving,
minimum paid) count as on time. The registry's 90- and 180-day windows are the latest 3
and 6 statements, and an amount a customer pays in one month settles the previous
month's bill.

Registry features (same name and meaning as in the ledger pipeline):

==================================  =====================================================
``credit_limit``                    ``LIMIT_BAL``
``open_balance``                    latest bill ``BILL_AMT1``
``open_balance_prev_90d``           bill three months earlier ``BILL_AMT4``
``limit_utilisation``               ``BILL_AMT1 / LIMIT_BAL``
``max_days_past_due``               current delay, ``30 * max(PAY_0, 0)``
``days_beyond_terms_{mean,max}_*``  mean / max delay days over the last 3 (``90d``) and 6 (``180d``) months
``share_paid_late{,_30}_*``         share of those months with a delay (1+ month / more than 30 days)
``days_beyond_terms_trend_90_180``  mean delay of the last 3 months minus that of the last 6
``days_since_last_payment``         30 days per month since the latest month with a payment
``days_since_last_late_payment``    30 days per month since the latest month in delay
==================================  =====================================================

Balances rise and fall with card use, and an idle card (no bill) defaults more often than
a lightly used one, so ``open_balance`` and ``limit_utilisation`` carry no monotone
constraint here (the registry's +1 is for trade-credit exposure).

Data-set features (``_PER_MONTH``, ``_EXTRA_ROWS``) add what card-default studies build from
the same panel: each month's status, payment, bill, utilisation (bill / limit) and payment
ratio (payment / the bill it settles); counts of revolving, paid-in-full, idle, unpaid and
underpaid months; the revolving balance (previous bill minus the latest payment) over the
limit; new charges (a bill minus the unpaid part of the bill before it) over the limit;
the largest and smallest payment ratio; utilisation trend (least-squares slope), spread
and latest change; the worst, best and summed status, how many months sit at the worst
and how long ago the latest of them was, and the months in delay in a row. Only the months-in-delay run carries a monotone
constraint: the others mix idle, revolving and fully paid cards, whose risks do not order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.features.definitions import Feature, FeatureConfig, build_registry
from riskmodel.models.specs import Target
from riskmodel.realdata.dataset import (
    RealDataSet,
    check_values,
    data_set_feature,
    read_checked_csv,
    resolve_file,
    undated_spec,
)

FILE_NAME = "default_of_credit_card_clients.csv"
MONTHS = 6
DAYS_PER_MONTH = 30
STATUS_COLUMNS = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")
BILL_COLUMNS = tuple(f"BILL_AMT{m}" for m in range(1, MONTHS + 1))
PAYMENT_COLUMNS = tuple(f"PAY_AMT{m}" for m in range(1, MONTHS + 1))
SOURCE_LABEL = "default payment next month"
REQUIRED_COLUMNS = (
    "ID",
    "LIMIT_BAL",
    "SEX",
    "EDUCATION",
    "MARRIAGE",
    "AGE",
    *STATUS_COLUMNS,
    *BILL_COLUMNS,
    *PAYMENT_COLUMNS,
    SOURCE_LABEL,
)
PROTECTED_COLUMNS = ("SEX", "AGE", "MARRIAGE")
WINDOWS = FeatureConfig(windows_days=(90, 180))  # the latest 3 and 6 monthly statements
EDUCATION = {1: "graduate school", 2: "university", 3: "high school", 4: "other"}  # 0, 5, 6: undocumented
SEX = {1: "male", 2: "female"}
MARRIAGE = {1: "married", 2: "single", 3: "other"}  # 0: undocumented

SPEC = undated_spec(
    "taiwan_default",
    "customer",
    "customer_id",
    Target("label_default_next_month", "pd_next_month"),
    "Probability that a card holder defaults on the next payment, from six months of statements "
    "(Taiwan credit-card default set, UCI).",
)

_REGISTRY_NAMES = (
    "credit_limit",
    "open_balance",
    "open_balance_prev_90d",
    "limit_utilisation",
    "max_days_past_due",
    "days_beyond_terms_mean_90d",
    "days_beyond_terms_max_90d",
    "share_paid_late_90d",
    "share_paid_late_30_90d",
    "days_beyond_terms_mean_180d",
    "days_beyond_terms_max_180d",
    "share_paid_late_180d",
    "share_paid_late_30_180d",
    "days_beyond_terms_trend_90_180",
    "days_since_last_payment",
    "days_since_last_late_payment",
)
_UNCONSTRAINED_HERE = ("open_balance", "limit_utilisation")


# fmt: off
_PER_MONTH = (  # name prefix, months, unit, English, Chinese; month m1 is the latest
    ("repayment_status", (1, 2, 3, 4, 5, 6), "code",
     "repayment status {m} month(s) back (-2 no use, -1 paid in full, 0 revolving, k months late)",
     "{m}个月前的还款状态（-2未使用，-1全额还款，0循环信用，k为逾期月数）"),
    ("payment_amount", (1, 2, 3, 4, 5, 6), "amount", "amount paid {m} month(s) back", "{m}个月前的还款金额"),
    # m1 and m4 are open_balance and open_balance_prev_90d, m1 utilisation is limit_utilisation,
    # and the m1 payment ratio is payment_to_bill_1m
    ("bill_amount", (2, 3, 5, 6), "amount", "bill {m} month(s) back", "{m}个月前的账单金额"),
    ("utilisation", (2, 3, 4, 5, 6), "share", "bill {m} month(s) back over the limit", "{m}个月前账单占额度比例"),
    ("payment_to_bill", (2, 3, 4, 5), "ratio", "amount paid {m} month(s) back over the bill it settles",
     "{m}个月前还款占对应账单比例"),
)
_EXTRA_ROWS = (  # name, direction, unit, English, Chinese
    ("n_months_revolving_6m", 0, "count", "months of the last 6 with a revolving balance", "近6个月循环信用月数"),
    ("n_months_paid_in_full_6m", 0, "count", "months of the last 6 paid in full", "近6个月全额还款月数"),
    ("n_months_no_use_6m", 0, "count", "months of the last 6 without card use", "近6个月未使用月数"),
    ("utilisation_mean_6m", 1, "share", "mean bill of the last 6 months over the limit", "近6个月平均账单占额度比例"),
    ("utilisation_max_6m", 1, "share", "largest bill of the last 6 months over the limit", "近6个月最高账单占额度比例"),
    ("payment_to_bill_1m", -1, "ratio", "latest payment over the bill it settles", "最近一次还款占对应账单比例"),
    ("payment_to_bill_3m", -1, "ratio", "payments of the last 3 months over the bills they settle", "近3个月还款占对应账单比例"),
    ("payment_to_bill_5m", -1, "ratio", "payments of the last 5 months over the bills they settle", "近5个月还款占对应账单比例"),
    ("payment_amount_mean_6m", 0, "amount", "mean amount paid over the last 6 months", "近6个月平均还款金额"),
    ("bill_amount_mean_6m", 0, "amount", "mean bill over the last 6 months", "近6个月平均账单金额"),
    ("bill_growth_3m", 0, "share", "latest bill against the bill 3 months earlier, minus 1", "最新账单较3个月前增长率"),
    ("bill_growth_5m", 0, "share", "latest bill against the bill 5 months earlier, minus 1", "最新账单较5个月前增长率"),
    ("utilisation_trend_6m", 0, "share", "least-squares slope of the bill over the limit, per month, over 6 months", "近6个月账单占额度比例的月均变化（最小二乘斜率）"),
    ("utilisation_std_6m", 0, "share", "standard deviation of the bill over the limit over 6 months", "近6个月账单占额度比例的标准差"),
    ("payment_amount_std_6m", 0, "amount", "standard deviation of the amount paid over 6 months", "近6个月还款金额的标准差"),
    ("payment_to_limit_mean_6m", 0, "share", "mean amount paid over the last 6 months over the limit", "近6个月平均还款金额占额度比例"),
    ("available_credit", 0, "amount", "limit minus the latest bill", "额度减最新账单"),
    ("unpaid_balance_1m", 0, "amount", "previous bill minus the latest payment (the balance that revolves)", "上期账单减最近一次还款（循环余额）"),
    ("unpaid_utilisation_1m", 0, "share", "previous bill minus the latest payment, over the limit", "循环余额占额度比例"),
    ("unpaid_utilisation_mean_5m", 0, "share", "mean over 5 months of the bill minus the payment settling it, over the limit", "近5个月平均循环余额占额度比例"),
    ("is_bill_paid_1m", 0, "flag", "the latest payment covers the bill it settles", "最近一次还款不低于对应账单"),
    ("n_months_bill_paid_5m", 0, "count", "months of the last 5 whose payment covers the bill it settles", "近5个月还款不低于对应账单的月数"),
    ("n_months_underpaid_5m", 0, "count", "months of the last 5 whose payment is below a positive bill it settles", "近5个月还款低于对应账单的月数"),
    ("n_months_no_payment_6m", 0, "count", "months of the last 6 without a payment", "近6个月未还款月数"),
    ("n_months_delayed_in_a_row", 1, "count", "months in delay in a row up to the latest", "截至最近连续逾期月数"),
    ("repayment_status_change_1m", 0, "code", "latest repayment status minus the one before", "最近还款状态较上月变化"),
    ("repayment_status_max_6m", 0, "code", "worst repayment status of the last 6 months", "近6个月最差还款状态"),
    ("repayment_status_min_6m", 0, "code", "best repayment status of the last 6 months", "近6个月最好还款状态"),
    ("repayment_status_sum_6m", 0, "code", "sum of the repayment statuses of the last 6 months", "近6个月还款状态之和"),
    ("spend_to_limit_1m", 0, "share", "latest new charges (bill minus the unpaid part of the previous one) over the limit", "最近一期新增消费占额度比例"),
    ("spend_to_limit_mean_5m", 0, "share", "mean new charges of the last 5 months over the limit", "近5个月平均新增消费占额度比例"),
    ("unpaid_utilisation_max_5m", 0, "share", "largest bill minus the payment settling it over the limit, last 5 months", "近5个月最高循环余额占额度比例"),
    ("payment_to_bill_max_5m", 0, "ratio", "largest payment over the bill it settles, last 5 months", "近5个月最高还款占对应账单比例"),
    ("payment_to_bill_min_5m", 0, "ratio", "smallest payment over the bill it settles, last 5 months", "近5个月最低还款占对应账单比例"),
    ("months_since_worst_status", 0, "count", "months back to the latest month at the worst repayment status", "距最近一次最差还款状态的月数"),
    ("n_months_at_worst_status", 0, "count", "months of the last 6 at the worst repayment status", "近6个月处于最差还款状态的月数"),
    ("payment_to_limit_1m", 0, "share", "latest payment over the limit", "最近一次还款占额度比例"),
    ("utilisation_change_1m", 0, "share", "latest bill minus the one before, over the limit", "最新账单较上月变化占额度比例"),
    ("education", 0, "category", "education", "教育程度"),
)
_PROTECTED_ROWS = (
    ("sex", 0, "category", "sex (protected attribute)", "性别（受保护属性）"),
    ("age_years", 0, "years", "age (protected attribute)", "年龄（受保护属性）"),
    ("marital_status", 0, "category", "marital status (protected attribute)", "婚姻状况（受保护属性）"),
)
# fmt: on


def _extra(name: str, direction: int, unit: str, en: str, zh: str) -> Feature:
    return data_set_feature(name, direction, en, zh, unit, "card_statements", "customer", unit == "category")


_EXTRAS = tuple(
    _extra(f"{prefix}_m{m}", 0, unit, en.format(m=m), zh.format(m=m))
    for prefix, months, unit, en, zh in _PER_MONTH
    for m in months
) + tuple(_extra(*row) for row in _EXTRA_ROWS)
_PROTECTED = tuple(_extra(*row) for row in _PROTECTED_ROWS)


def taiwan_feature_list(include_protected: bool = False) -> tuple[Feature, ...]:
    """Registry features (direction adjusted as the module says), data-set extras, and optionally sex, age, marriage."""
    registry = {f.name: f for f in build_registry(WINDOWS)}
    mapped = tuple(
        dataclasses.replace(registry[name], direction=0) if name in _UNCONSTRAINED_HERE else registry[name]
        for name in _REGISTRY_NAMES
    )
    return mapped + _EXTRAS + (_PROTECTED if include_protected else ())


def read_taiwan(path: str | Path) -> tuple[pd.DataFrame, Path]:
    """The raw file (``path`` or ``path/default_of_credit_card_clients.csv``) and where it was found."""
    file = resolve_file(path, FILE_NAME)
    return read_checked_csv(file, REQUIRED_COLUMNS, numeric=REQUIRED_COLUMNS), file


def taiwan_features(raw: pd.DataFrame, include_protected: bool = False) -> pd.DataFrame:
    """One row per card holder: ``customer_id``, the features and ``label_default_next_month`` in {0, 1}."""
    status = raw[list(STATUS_COLUMNS)].to_numpy(dtype=np.float64)
    bills = raw[list(BILL_COLUMNS)].to_numpy(dtype=np.float64)
    paid = raw[list(PAYMENT_COLUMNS)].to_numpy(dtype=np.float64)
    limit = raw["LIMIT_BAL"].to_numpy(dtype=np.float64)
    delay_days = np.clip(status, 0, None) * DAYS_PER_MONTH
    late, late_30 = delay_days > 0, delay_days > 30
    mean_90, mean_180 = delay_days[:, :3].mean(axis=1), delay_days.mean(axis=1)
    utilisation = _ratio(bills, limit[:, None])
    settled = bills[:, 1:]  # the bill each of the latest 5 payments settles (the month before it)
    unpaid = settled - paid[:, :-1]
    pay_ratio = _ratio(paid[:, :-1], settled)
    at_worst = status == status.max(axis=1, keepdims=True)
    months_later = np.arange(MONTHS - 1, -1, -1) - (MONTHS - 1) / 2  # time axis, m1 the latest
    columns = {
        "customer_id": raw["ID"].to_numpy(),
        "credit_limit": limit,
        "open_balance": bills[:, 0],
        "open_balance_prev_90d": bills[:, 3],
        "limit_utilisation": _ratio(bills[:, 0], limit),
        "max_days_past_due": delay_days[:, 0],
        "days_beyond_terms_mean_90d": mean_90,
        "days_beyond_terms_max_90d": delay_days[:, :3].max(axis=1),
        "share_paid_late_90d": late[:, :3].mean(axis=1),
        "share_paid_late_30_90d": late_30[:, :3].mean(axis=1),
        "days_beyond_terms_mean_180d": mean_180,
        "days_beyond_terms_max_180d": delay_days.max(axis=1),
        "share_paid_late_180d": late.mean(axis=1),
        "share_paid_late_30_180d": late_30.mean(axis=1),
        "days_beyond_terms_trend_90_180": mean_90 - mean_180,
        "days_since_last_payment": _months_since_first(paid > 0) * DAYS_PER_MONTH,
        "days_since_last_late_payment": _months_since_first(late) * DAYS_PER_MONTH,
        **{f"repayment_status_m{m + 1}": status[:, m] for m in range(MONTHS)},
        **{f"payment_amount_m{m + 1}": paid[:, m] for m in range(MONTHS)},
        **{f"bill_amount_m{m}": bills[:, m - 1] for m in (2, 3, 5, 6)},
        **{f"utilisation_m{m + 1}": utilisation[:, m] for m in range(1, MONTHS)},
        **{f"payment_to_bill_m{m + 1}": _ratio(paid[:, m], settled[:, m]) for m in range(1, MONTHS - 1)},
        "n_months_revolving_6m": (status == 0).sum(axis=1),
        "n_months_paid_in_full_6m": (status == -1).sum(axis=1),
        "n_months_no_use_6m": (status == -2).sum(axis=1),
        "utilisation_mean_6m": _ratio(bills.mean(axis=1), limit),
        "utilisation_max_6m": _ratio(bills.max(axis=1), limit),
        "payment_to_bill_1m": _ratio(paid[:, 0], bills[:, 1]),
        "payment_to_bill_3m": _ratio(paid[:, :3].sum(axis=1), bills[:, 1:4].sum(axis=1)),
        "payment_to_bill_5m": _ratio(paid[:, :5].sum(axis=1), bills[:, 1:6].sum(axis=1)),
        "payment_amount_mean_6m": paid.mean(axis=1),
        "bill_amount_mean_6m": bills.mean(axis=1),
        "bill_growth_3m": _ratio(bills[:, 0], bills[:, 3]) - 1,
        "bill_growth_5m": _ratio(bills[:, 0], bills[:, 5]) - 1,
        "utilisation_trend_6m": utilisation @ months_later / (months_later @ months_later),
        "utilisation_std_6m": utilisation.std(axis=1),
        "payment_amount_std_6m": paid.std(axis=1),
        "payment_to_limit_mean_6m": _ratio(paid.mean(axis=1), limit),
        "available_credit": limit - bills[:, 0],
        "unpaid_balance_1m": unpaid[:, 0],
        "unpaid_utilisation_1m": _ratio(unpaid[:, 0], limit),
        "unpaid_utilisation_mean_5m": _ratio(unpaid.mean(axis=1), limit),
        "is_bill_paid_1m": (paid[:, 0] >= settled[:, 0]).astype(np.float64),
        "n_months_bill_paid_5m": (paid[:, :-1] >= settled).sum(axis=1),
        "n_months_underpaid_5m": ((paid[:, :-1] < settled) & (settled > 0)).sum(axis=1),
        "n_months_no_payment_6m": (paid == 0).sum(axis=1),
        "n_months_delayed_in_a_row": np.cumprod(late, axis=1).sum(axis=1),
        "repayment_status_change_1m": status[:, 0] - status[:, 1],
        "repayment_status_max_6m": status.max(axis=1),
        "repayment_status_min_6m": status.min(axis=1),
        "repayment_status_sum_6m": status.sum(axis=1),
        "spend_to_limit_1m": _ratio(bills[:, 0] - unpaid[:, 0], limit),
        "spend_to_limit_mean_5m": _ratio((bills[:, :-1] - unpaid).mean(axis=1), limit),
        "unpaid_utilisation_max_5m": _ratio(unpaid.max(axis=1), limit),
        "payment_to_bill_max_5m": _row_reduce(np.nanmax, pay_ratio),
        "payment_to_bill_min_5m": _row_reduce(np.nanmin, pay_ratio),
        "months_since_worst_status": _months_since_first(at_worst),
        "n_months_at_worst_status": at_worst.sum(axis=1),
        "payment_to_limit_1m": _ratio(paid[:, 0], limit),
        "utilisation_change_1m": utilisation[:, 0] - utilisation[:, 1],
        "education": _decode(raw["EDUCATION"], EDUCATION),
    }
    if include_protected:
        columns |= {
            "sex": _decode(raw["SEX"], SEX),
            "age_years": raw["AGE"].to_numpy(dtype=np.float64),
            "marital_status": _decode(raw["MARRIAGE"], MARRIAGE),
        }
    columns[SPEC.split_label] = raw[SOURCE_LABEL].to_numpy(dtype=np.int64)
    return pd.DataFrame(columns, index=raw.index)


def load_taiwan(path: str | Path, include_protected: bool = False) -> RealDataSet:
    """Read and map the Taiwan set; sex, age and marital status only when ``include_protected``.

    Raises
    ------
    RealDataFileError
        When the file is missing.
    RealDataError
        When a column is missing or not numeric, or the label is not 0/1.
    """
    raw, file = read_taiwan(path)
    check_values(file, raw, SOURCE_LABEL, (0, 1))
    table = taiwan_features(raw, include_protected)
    return RealDataSet(SPEC, table, taiwan_feature_list(include_protected), file)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` (broadcast), NaN where the denominator is not positive."""
    out = np.full(np.broadcast_shapes(numerator.shape, denominator.shape), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _months_since_first(mask: np.ndarray) -> np.ndarray:
    """Months back to the latest month where ``mask`` holds (0 = latest), NaN when it never does."""
    first = mask.argmax(axis=1).astype(np.float64)
    first[~mask.any(axis=1)] = np.nan
    return first


def _row_reduce(reduce: Callable[..., np.ndarray], values: np.ndarray) -> np.ndarray:
    """``reduce`` (``np.nanmax``, ``np.nanmin``) of each row's values, NaN for a row without any."""
    out = np.full(len(values), np.nan)
    has = ~np.isnan(values).all(axis=1)
    out[has] = reduce(values[has], axis=1)
    return out


def _decode(codes: pd.Series, names: dict[int, str]) -> pd.Series:
    """Documented codes as their names; undocumented ones as ``"undocumented <code>"``."""
    return codes.map(lambda code: names.get(code, f"undocumented {code}")).astype("string")
