"""Public data-set adapters: hand-checked feature values, protected attributes, labels, errors, a quick fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.exceptions import NotEnoughDataError, RealDataError, RealDataFileError
from riskmodel.models.config import GBMParams, TrainConfig
from riskmodel.models.fit import fit_model_on_split
from riskmodel.realdata import load_german, load_taiwan, stratified_holdout
from riskmodel.realdata.german import PROTECTED_COLUMNS as GERMAN_PROTECTED
from riskmodel.realdata.taiwan import SOURCE_LABEL, read_taiwan, taiwan_features
from tests.conftest import REAL_DATA

TAIWAN_DIR = REAL_DATA / "taiwan_default_credit_card"
GERMAN_DIR = REAL_DATA / "german_credit"
pytestmark = pytest.mark.skipif(
    not (TAIWAN_DIR.is_dir() and GERMAN_DIR.is_dir()),
    reason=f"the public data sets are not at {REAL_DATA}; set RISKMODEL_REAL_DATA to the folder holding them",
)
TAIWAN_PROTECTED = ("sex", "age_years", "marital_status")
QUICK = TrainConfig(
    gbm=GBMParams(n_estimators=60, learning_rate=0.1, min_child_samples=40, early_stopping_rounds=10),
    validation_share=0.30,
)


@pytest.fixture(scope="module")
def taiwan():
    return load_taiwan(TAIWAN_DIR)


@pytest.fixture(scope="module")
def german():
    return load_german(GERMAN_DIR)


def _row(table: pd.DataFrame, key: str, value: int) -> pd.Series:
    return table.loc[table[key] == value].iloc[0]


# --- Taiwan: values worked out by hand from the raw columns -----------------------------------
# ID 1: LIMIT_BAL 20000; PAY_0..PAY_6 = 2, 2, -1, -1, -2, -2; BILL_AMT1..6 = 3913, 3102, 689, 0, 0, 0;
#       PAY_AMT1..6 = 0, 689, 0, 0, 0, 0; default 1
# ID 2: LIMIT_BAL 120000; PAY = -1, 2, 0, 0, 0, 2; BILL = 2682, 1725, 2682, 3272, 3455, 3261;
#       PAY_AMT = 0, 1000, 1000, 1000, 0, 2000; default 1
TAIWAN_EXPECTED = {
    1: {
        "credit_limit": 20000,
        "open_balance": 3913,
        "open_balance_prev_90d": 0,
        "limit_utilisation": 3913 / 20000,
        "max_days_past_due": 60,
        "days_beyond_terms_mean_90d": (60 + 60 + 0) / 3,
        "days_beyond_terms_max_90d": 60,
        "days_beyond_terms_mean_180d": 120 / 6,
        "days_beyond_terms_max_180d": 60,
        "share_paid_late_90d": 2 / 3,
        "share_paid_late_30_90d": 2 / 3,
        "share_paid_late_180d": 2 / 6,
        "share_paid_late_30_180d": 2 / 6,
        "days_beyond_terms_trend_90_180": 40 - 20,
        "days_since_last_payment": 30,  # first payment one month back (PAY_AMT2)
        "days_since_last_late_payment": 0,  # late in the latest month
        "repayment_status_m1": 2,
        "repayment_status_m6": -2,
        "payment_amount_m2": 689,
        "n_months_revolving_6m": 0,
        "n_months_paid_in_full_6m": 2,
        "n_months_no_use_6m": 2,
        "utilisation_mean_6m": (3913 + 3102 + 689) / 6 / 20000,
        "utilisation_max_6m": 3913 / 20000,
        "payment_to_bill_1m": 0 / 3102,
        "payment_to_bill_3m": 689 / (3102 + 689 + 0),
        "payment_to_bill_5m": 689 / (3102 + 689),
        "bill_amount_mean_6m": (3913 + 3102 + 689) / 6,
        "payment_amount_mean_6m": 689 / 6,
        "bill_amount_m2": 3102,
        "bill_amount_m6": 0,
        "utilisation_m2": 3102 / 20000,
        "utilisation_m3": 689 / 20000,
        "payment_to_bill_m2": 689 / 689,  # PAY_AMT2 settles BILL_AMT3
        # slope of (3913, 3102, 689, 0, 0, 0) / 20000 over months 2.5, 1.5, ..., -2.5 (latest first)
        "utilisation_trend_6m": (3913 * 2.5 + 3102 * 1.5 + 689 * 0.5) / 20000 / 17.5,
        "payment_to_limit_mean_6m": 689 / 6 / 20000,
        "available_credit": 20000 - 3913,
        "unpaid_balance_1m": 3102 - 0,
        "unpaid_utilisation_1m": 3102 / 20000,
        "unpaid_utilisation_mean_5m": (3102 + 0 + 0 + 0 + 0) / 5 / 20000,  # BILL_AMT2..6 minus PAY_AMT1..5
        "is_bill_paid_1m": 0,  # paid 0 of 3102
        "n_months_bill_paid_5m": 4,  # 689 of 689, then nothing owed
        "n_months_underpaid_5m": 1,
        "n_months_no_payment_6m": 5,
        "n_months_delayed_in_a_row": 2,
        "repayment_status_change_1m": 2 - 2,
        "repayment_status_max_6m": 2,
        "repayment_status_min_6m": -2,
        "repayment_status_sum_6m": 2 + 2 - 1 - 1 - 2 - 2,
        "spend_to_limit_1m": (3913 - 3102) / 20000,  # BILL_AMT1 minus the unpaid 3102 of BILL_AMT2
        "spend_to_limit_mean_5m": ((3913 - 3102) + (3102 - 0) + 689 + 0 + 0) / 5 / 20000,
        "unpaid_utilisation_max_5m": 3102 / 20000,
        "payment_to_bill_max_5m": 689 / 689,  # the other ratios: 0 / 3102, then no bill to settle
        "payment_to_bill_min_5m": 0 / 3102,
        "months_since_worst_status": 0,
        "n_months_at_worst_status": 2,
        "payment_to_limit_1m": 0,
        "utilisation_change_1m": (3913 - 3102) / 20000,
        "label_default_next_month": 1,
    },
    2: {
        "limit_utilisation": 2682 / 120000,
        "max_days_past_due": 0,  # PAY_0 = -1: paid duly
        "days_beyond_terms_mean_90d": 60 / 3,
        "days_beyond_terms_max_90d": 60,
        "share_paid_late_90d": 1 / 3,
        "share_paid_late_180d": 2 / 6,
        "days_beyond_terms_trend_90_180": 20 - 20,
        "days_since_last_payment": 30,
        "days_since_last_late_payment": 30,
        "n_months_revolving_6m": 3,
        "n_months_paid_in_full_6m": 1,
        "payment_to_bill_3m": 2000 / (1725 + 2682 + 3272),
        "bill_growth_3m": 2682 / 3272 - 1,
        "bill_growth_5m": 2682 / 3261 - 1,
        "bill_amount_m5": 3455,
        "utilisation_m6": 3261 / 120000,
        "payment_to_bill_m2": 1000 / 2682,
        "payment_to_bill_m5": 0 / 3261,
        "unpaid_balance_1m": 1725 - 0,
        "unpaid_utilisation_mean_5m": (1725 + 1682 + 2272 + 2455 + 3261) / 5 / 120000,
        "is_bill_paid_1m": 0,
        "n_months_bill_paid_5m": 0,
        "n_months_underpaid_5m": 5,
        "n_months_no_payment_6m": 2,
        "n_months_delayed_in_a_row": 0,  # paid duly in the latest month
        "repayment_status_change_1m": -1 - 2,
        "repayment_status_max_6m": 2,
        "repayment_status_min_6m": -1,
        "repayment_status_sum_6m": -1 + 2 + 0 + 0 + 0 + 2,
        "spend_to_limit_1m": (2682 - 1725) / 120000,
        "payment_to_bill_max_5m": 1000 / 2682,
        "payment_to_bill_min_5m": 0,
        "months_since_worst_status": 1,  # status 2 one and five months back
        "n_months_at_worst_status": 2,
        "utilisation_change_1m": (2682 - 1725) / 120000,
        "label_default_next_month": 1,
    },
}


@pytest.mark.parametrize("customer_id", sorted(TAIWAN_EXPECTED), ids=lambda i: f"ID{i}")
def test_taiwan_features_match_hand_computed_values(taiwan, customer_id):
    row = _row(taiwan.table, "customer_id", customer_id)
    expected = TAIWAN_EXPECTED[customer_id]
    assert {name: float(row[name]) for name in expected} == pytest.approx(expected, rel=1e-12)


def test_taiwan_ratios_over_a_zero_bill_are_missing(taiwan):
    row = _row(taiwan.table, "customer_id", 1)  # BILL_AMT4 and BILL_AMT6 are 0
    assert np.isnan(row["bill_growth_3m"]) and np.isnan(row["bill_growth_5m"])
    assert np.isnan(row["payment_to_bill_m3"])  # PAY_AMT3 settles BILL_AMT4 = 0


def test_taiwan_payment_ratio_extremes_are_missing_without_a_bill_to_settle():
    raw, _ = read_taiwan(TAIWAN_DIR)
    idle = raw.head(1).assign(**{f"BILL_AMT{m}": 0 for m in range(2, 7)})
    row = taiwan_features(idle).iloc[0]
    assert np.isnan(row["payment_to_bill_max_5m"]) and np.isnan(row["payment_to_bill_min_5m"])


def test_taiwan_spreads_are_those_of_the_six_months(taiwan):
    row = _row(taiwan.table, "customer_id", 1)
    assert row["utilisation_std_6m"] == pytest.approx(np.std([3913, 3102, 689, 0, 0, 0]) / 20000)
    assert row["payment_amount_std_6m"] == pytest.approx(np.std([0, 689, 0, 0, 0, 0]))


def test_taiwan_features_do_not_read_the_label():
    raw, _ = read_taiwan(TAIWAN_DIR)
    flipped = raw.assign(**{SOURCE_LABEL: 1 - raw[SOURCE_LABEL]})
    features, features_flipped = taiwan_features(raw), taiwan_features(flipped)
    label = "label_default_next_month"
    pd.testing.assert_frame_equal(features.drop(columns=label), features_flipped.drop(columns=label))
    assert (features[label] != features_flipped[label]).all()


def test_taiwan_features_of_a_row_depend_on_that_row_only():
    raw, _ = read_taiwan(TAIWAN_DIR)
    alone = taiwan_features(raw.iloc[[1]]).reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, taiwan_features(raw).iloc[[1]].reset_index(drop=True))


def test_taiwan_undocumented_education_codes_stay_distinct(taiwan):
    education = taiwan.table["education"]
    assert _row(taiwan.table, "customer_id", 1)["education"] == "university"
    assert {"undocumented 0", "undocumented 5", "undocumented 6"} <= set(education.unique())


def test_taiwan_mapped_features_keep_registry_directions(taiwan):
    direction = {f.name: f.direction for f in taiwan.features}
    assert direction["max_days_past_due"] == 1 and direction["days_since_last_late_payment"] == -1
    assert direction["payment_to_bill_3m"] == -1
    assert direction["n_months_delayed_in_a_row"] == 1 and direction["utilisation_trend_6m"] == 0
    assert direction["open_balance"] == 0 and direction["limit_utilisation"] == 0  # card balances: not sure


def test_taiwan_table_has_one_row_per_card_holder_and_every_feature(taiwan):
    table = taiwan.table
    assert len(table) == 30_000 and table["customer_id"].is_unique
    assert list(table.columns) == ["customer_id", *taiwan.feature_names, taiwan.label]
    assert table[taiwan.label].mean() == pytest.approx(0.2212, abs=1e-4)


def test_taiwan_leaves_protected_attributes_out_by_default(taiwan):
    assert not set(TAIWAN_PROTECTED) & set(taiwan.table.columns)
    assert not set(TAIWAN_PROTECTED) & set(taiwan.feature_names)


def test_taiwan_includes_protected_attributes_when_asked():
    data = load_taiwan(TAIWAN_DIR, include_protected=True)
    row = _row(data.table, "customer_id", 1)  # SEX 2, MARRIAGE 1, AGE 24
    assert (row["sex"], row["marital_status"], row["age_years"]) == ("female", "married", 24)
    assert set(TAIWAN_PROTECTED) <= set(data.feature_names)


# --- German -------------------------------------------------------------------------------------


def test_german_decodes_a_codes_and_maps_class_2_to_bad(german):
    first, second = german.table.iloc[0], german.table.iloc[1]
    assert (first["checking_status"], first["purpose"], first["duration_months"]) == (
        "< 0 DM",
        "radio/television",
        6,
    )
    assert second["savings_status"] == "< 100 DM"
    assert (first["label_bad"], second["label_bad"]) == (0, 1)  # class 1 (good), class 2 (bad)
    assert german.table["label_bad"].sum() == 300


def test_german_features_are_the_application_attributes_without_protected_ones(german):
    assert len(german.features) == 17
    assert not set(GERMAN_PROTECTED) & set(german.table.columns)
    categorical = {f.name for f in german.features if f.categorical}
    assert "checking_status" in categorical and "duration_months" not in categorical


def test_german_includes_protected_attributes_when_asked():
    data = load_german(GERMAN_DIR, include_protected=True)
    assert len(data.features) == 20 and set(GERMAN_PROTECTED) <= set(data.feature_names)
    assert data.table.iloc[0]["personal_status_sex"] == "male: single"


# --- errors -------------------------------------------------------------------------------------


def test_missing_file_error_names_the_path(tmp_path):
    with pytest.raises(RealDataFileError, match=str(tmp_path / "default_of_credit_card_clients.csv")):
        load_taiwan(tmp_path)
    with pytest.raises(FileNotFoundError, match="german_credit.csv"):
        load_german(tmp_path / "german_credit.csv")


def test_file_without_a_column_names_the_column(tmp_path):
    raw = pd.read_csv(TAIWAN_DIR / "default_of_credit_card_clients.csv", nrows=20)
    file = tmp_path / "taiwan.csv"
    raw.drop(columns=["PAY_AMT6", "LIMIT_BAL"]).to_csv(file, index=False)
    with pytest.raises(RealDataError, match=r"missing column\(s\) \['LIMIT_BAL', 'PAY_AMT6'\]"):
        load_taiwan(file)


def test_text_in_a_numeric_column_names_the_column(tmp_path):
    raw = pd.read_csv(TAIWAN_DIR / "default_of_credit_card_clients.csv", nrows=20)
    raw["PAY_0"] = raw["PAY_0"].astype(str)
    raw.loc[5, "PAY_0"] = "late"
    file = tmp_path / "taiwan.csv"
    raw.to_csv(file, index=False)
    with pytest.raises(RealDataError, match=r"column\(s\) \['PAY_0'\] must hold numbers only"):
        load_taiwan(file)


def test_unknown_code_names_column_row_and_value(tmp_path):
    raw = pd.read_csv(GERMAN_DIR / "german_credit.csv", nrows=20)
    raw.loc[3, "purpose"] = "A99"
    file = tmp_path / "german.csv"
    raw.to_csv(file, index=False)
    with pytest.raises(RealDataError, match="'purpose' row 4: 'A99' is not one of"):
        load_german(file)


# --- the same training code on a stratified split ---------------------------------------------------


@pytest.fixture(scope="module")
def quick_fit(taiwan):
    sample = taiwan.table.sample(n=3000, random_state=0)
    rest, holdout = stratified_holdout(sample, taiwan.label, 0.3, seed=0)
    return fit_model_on_split(taiwan.spec, rest, holdout, QUICK, taiwan.features), holdout


def test_stratified_holdout_keeps_the_default_rate(taiwan):
    rest, holdout = stratified_holdout(taiwan.table, taiwan.label, 0.3, seed=1)
    assert len(holdout) == 9000 and len(rest) == 21000
    assert holdout[taiwan.label].mean() == pytest.approx(rest[taiwan.label].mean(), abs=5e-4)
    assert not set(holdout["customer_id"]) & set(rest["customer_id"])


def test_quick_fit_scores_its_holdout_above_chance(quick_fit):
    result, holdout = quick_fit
    assert result.metrics["auc"] > 0.6 and result.metrics["n"] == len(holdout)
    assert result.kind in ("gbm", "scorecard")


def test_quick_fit_validates_on_the_holdout_rows_only(quick_fit):
    result, holdout = quick_fit
    assert result.validation["customer_id"].tolist() == holdout["customer_id"].tolist()
    s = result.design_summary
    assert s["development"]["rows"] == s["labelled"]["rows"] == 2100 and s["validation"]["rows"] == 900
    assert s["development"]["first_date"] is None and s["validation"]["cut"] is None
    assert len(result.origins) == 4  # three stratified folds, then the hold-out


def test_quick_fit_predicts_the_target_output(quick_fit):
    result, holdout = quick_fit
    frame = result.model.predict(holdout.head(5))
    assert list(frame.columns) == ["pd_next_month"] and frame["pd_next_month"].between(0, 1).all()


def test_split_fit_rejects_a_key_in_both_parts(taiwan):
    rows = taiwan.table.head(200)
    with pytest.raises(ValueError, match="customer_id must be unique across training and hold-out rows"):
        fit_model_on_split(taiwan.spec, rows, rows.head(50), QUICK, taiwan.features)


def test_split_fit_needs_both_outcomes_in_the_holdout(taiwan):
    rows = taiwan.table.head(400)
    holdout = rows[rows[taiwan.label] == 0].head(50)
    with pytest.raises(NotEnoughDataError, match="hold-out needs positive and negative"):
        fit_model_on_split(taiwan.spec, rows.drop(holdout.index), holdout, QUICK, taiwan.features)


def test_loaders_accept_the_file_itself(german):
    data = load_german(Path(GERMAN_DIR) / "german_credit.csv")
    pd.testing.assert_frame_equal(data.table, german.table)
