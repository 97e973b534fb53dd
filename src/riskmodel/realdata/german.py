"""The German credit set (Statlog, UCI, Hofmann 1994) as application data for an onboarding model.

The 20 attributes known at application are the features: the 13 A-coded ones become
categories named as in ``german.doc``, the 7 numeric ones stay numbers. The label is
``label_bad`` = 1 for class 2 (bad). ``personal_status_sex``, ``age_years`` and
``foreign_worker`` are protected attributes and are left out unless asked for.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskmodel.features.definitions import Feature
from riskmodel.models.specs import Target
from riskmodel.realdata.dataset import (
    RealDataSet,
    check_values,
    data_set_feature,
    read_checked_csv,
    resolve_file,
    undated_spec,
)

FILE_NAME = "german_credit.csv"
SOURCE_LABEL = "class"  # 1 = good, 2 = bad
PROTECTED_COLUMNS = ("personal_status_sex", "age_years", "foreign_worker")

CODES: dict[str, dict[str, str]] = {
    "checking_status": {
        "A11": "< 0 DM",
        "A12": "0 to 200 DM",
        "A13": ">= 200 DM or salary assigned 1+ year",
        "A14": "no checking account",
    },
    "credit_history": {
        "A30": "no credits taken or all paid back duly",
        "A31": "all credits at this bank paid back duly",
        "A32": "existing credits paid back duly till now",
        "A33": "delay in paying off in the past",
        "A34": "critical account or credits at other banks",
    },
    "purpose": {
        "A40": "car (new)",
        "A41": "car (used)",
        "A42": "furniture/equipment",
        "A43": "radio/television",
        "A44": "domestic appliances",
        "A45": "repairs",
        "A46": "education",
        "A47": "vacation",
        "A48": "retraining",
        "A49": "business",
        "A410": "others",
    },
    "savings_status": {
        "A61": "< 100 DM",
        "A62": "100 to 500 DM",
        "A63": "500 to 1000 DM",
        "A64": ">= 1000 DM",
        "A65": "unknown or no savings account",
    },
    "employment_since": {
        "A71": "unemployed",
        "A72": "< 1 year",
        "A73": "1 to 4 years",
        "A74": "4 to 7 years",
        "A75": ">= 7 years",
    },
    "personal_status_sex": {
        "A91": "male: divorced/separated",
        "A92": "female: divorced/separated/married",
        "A93": "male: single",
        "A94": "male: married/widowed",
        "A95": "female: single",
    },
    "other_debtors": {"A101": "none", "A102": "co-applicant", "A103": "guarantor"},
    "property": {
        "A121": "real estate",
        "A122": "building society savings or life insurance",
        "A123": "car or other",
        "A124": "unknown or no property",
    },
    "other_installment_plans": {"A141": "bank", "A142": "stores", "A143": "none"},
    "housing": {"A151": "rent", "A152": "own", "A153": "for free"},
    "job": {
        "A171": "unemployed or unskilled non-resident",
        "A172": "unskilled resident",
        "A173": "skilled employee or official",
        "A174": "management, self-employed or highly qualified",
    },
    "telephone": {"A191": "none", "A192": "yes, in the customer's name"},
    "foreign_worker": {"A201": "yes", "A202": "no"},
}

# name: (direction, English, Chinese); a longer loan and a larger instalment share raise risk
NUMERIC: dict[str, tuple[int, str, str]] = {
    "duration_months": (1, "loan duration in months", "贷款期限（月）"),
    "credit_amount": (0, "credit amount (DM)", "贷款金额（马克）"),
    "installment_rate_pct": (
        1,
        "instalment as a share of disposable income (1-4)",
        "分期付款占可支配收入比例（1-4）",
    ),
    "residence_since": (0, "years at the present residence (1-4)", "现居住年限（1-4）"),
    "age_years": (0, "age (protected attribute)", "年龄（受保护属性）"),
    "existing_credits": (0, "existing credits at this bank", "在本行的现有贷款数"),
    "num_people_liable": (0, "people the applicant maintains", "需抚养人数"),
}
CATEGORY_TEXT: dict[str, tuple[str, str]] = {
    "checking_status": ("checking account balance", "支票账户余额"),
    "credit_history": ("credit history", "信用记录"),
    "purpose": ("purpose of the credit", "贷款用途"),
    "savings_status": ("savings account or bonds", "储蓄账户或债券"),
    "employment_since": ("present employment since", "现职工作年限"),
    "personal_status_sex": ("personal status and sex (protected attribute)", "婚姻状况与性别（受保护属性）"),
    "other_debtors": ("other debtors or guarantors", "其他债务人或担保人"),
    "property": ("most valuable property", "主要财产"),
    "other_installment_plans": ("other instalment plans", "其他分期付款计划"),
    "housing": ("housing", "住房情况"),
    "job": ("job", "职业"),
    "telephone": ("telephone", "电话"),
    "foreign_worker": ("foreign worker (protected attribute)", "外籍劳工（受保护属性）"),
}
ATTRIBUTE_ORDER = (
    "checking_status",
    "duration_months",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings_status",
    "employment_since",
    "installment_rate_pct",
    "personal_status_sex",
    "other_debtors",
    "residence_since",
    "property",
    "age_years",
    "other_installment_plans",
    "housing",
    "existing_credits",
    "job",
    "num_people_liable",
    "telephone",
    "foreign_worker",
)
REQUIRED_COLUMNS = (*ATTRIBUTE_ORDER, SOURCE_LABEL)

SPEC = undated_spec(
    "german_onboarding",
    "onboarding",
    "applicant_id",
    Target("label_bad", "p_bad"),
    "Probability that an applicant is a bad credit risk, from application data only (German credit set, UCI).",
)


def german_feature_list(include_protected: bool = False) -> tuple[Feature, ...]:
    """The 20 application attributes in file order (17 without the protected ones)."""
    features = []
    for name in ATTRIBUTE_ORDER:
        if name in PROTECTED_COLUMNS and not include_protected:
            continue
        if name in CODES:
            en, zh = CATEGORY_TEXT[name]
            features.append(data_set_feature(name, 0, en, zh, "category", "application", "onboarding", True))
        else:
            direction, en, zh = NUMERIC[name]
            features.append(data_set_feature(name, direction, en, zh, "number", "application", "onboarding"))
    return tuple(features)


def read_german(path: str | Path) -> tuple[pd.DataFrame, Path]:
    """The raw file (``path`` or ``path/german_credit.csv``) and where it was found."""
    file = resolve_file(path, FILE_NAME)
    return read_checked_csv(file, REQUIRED_COLUMNS, numeric=(*NUMERIC, SOURCE_LABEL)), file


def german_features(raw: pd.DataFrame, include_protected: bool = False) -> pd.DataFrame:
    """One row per applicant: ``applicant_id`` (file row, from 1), the attributes and ``label_bad`` in {0, 1}."""
    names = [f.name for f in german_feature_list(include_protected)]
    table = pd.DataFrame({"applicant_id": range(1, len(raw) + 1)}, index=raw.index)
    for name in names:
        table[name] = raw[name].map(CODES[name]).astype("string") if name in CODES else raw[name]
    table[SPEC.split_label] = (raw[SOURCE_LABEL] == 2).astype("int64")
    return table


def load_german(path: str | Path, include_protected: bool = False) -> RealDataSet:
    """Read and decode the German set; sex/status, age and foreign worker only when ``include_protected``.

    Raises
    ------
    RealDataFileError
        When the file is missing.
    RealDataError
        When a column is missing, a numeric one holds text, a code is not in ``german.doc``
        or the class is not 1/2.
    """
    raw, file = read_german(path)
    check_values(file, raw, SOURCE_LABEL, (1, 2))
    for name, codes in CODES.items():
        check_values(file, raw, name, tuple(codes))
    table = german_features(raw, include_protected)
    return RealDataSet(SPEC, table, german_feature_list(include_protected), file)
