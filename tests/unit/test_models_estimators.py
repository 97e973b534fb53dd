"""The fitted parts of a model: column preparation, GBM, scorecard, calibration, out-of-time design, delays, config."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from riskmodel.exceptions import NotEnoughDataError, TrainConfigError
from riskmodel.features.definitions import Feature
from riskmodel.models.calibration import ScoreCalibrator, strictly_increasing
from riskmodel.models.columns import FeaturePreparer
from riskmodel.models.config import ChampionRule, GBMParams, TrainConfig, load_train_config
from riskmodel.models.design import stratified_design, time_design
from riskmodel.models.gbm import MonotoneGBM
from riskmodel.models.metrics import auc
from riskmodel.models.scorecard import BinnedScorecard
from riskmodel.models.tracking import decide_promotion

SMALL_GBM = GBMParams(n_estimators=30, early_stopping_rounds=10, min_child_samples=10)
BAGGED_GBM = dataclasses.replace(SMALL_GBM, n_bags=3)


def _feature(name: str, direction: int = 1, categorical: bool = False) -> Feature:
    return Feature(name, name, "derived", "test", "unit", direction, name, name, categorical=categorical)


@pytest.fixture(scope="module")
def risk_data() -> tuple[np.ndarray, np.ndarray]:
    """Two numeric columns (the first raises risk) and one categorical code; 2,000 rows."""
    rng = np.random.default_rng(0)
    x = np.column_stack(
        [rng.normal(size=2000), rng.normal(size=2000), rng.integers(0, 3, 2000).astype(float)]
    )
    x[rng.uniform(size=2000) < 0.1, 1] = np.nan
    logit = -2 + 1.5 * x[:, 0] + 0.5 * (x[:, 2] == 2)
    y = (rng.uniform(size=2000) < 1 / (1 + np.exp(-logit))).astype(float)
    return x, y


# --- FeaturePreparer -------------------------------------------------------------------------


def test_preparer_drops_absent_empty_and_constant_columns_with_reasons():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "empty": [np.nan] * 3, "same": [5, 5, 5]})
    preparer = FeaturePreparer((_feature("a"), _feature("empty"), _feature("same"), _feature("absent"))).fit(
        frame
    )
    assert preparer.feature_names_ == ["a"]
    assert set(preparer.dropped_) == {"empty", "same", "absent"}
    assert "one value only" in preparer.dropped_["same"]


def test_preparer_codes_categories_unseen_as_minus_one_and_missing_as_nan():
    frame = pd.DataFrame({"industry": ["retail", "it", None], "a": [1.0, 2.0, 3.0]})
    preparer = FeaturePreparer((_feature("industry", 0, categorical=True), _feature("a", -1))).fit(frame)
    matrix = preparer.transform(pd.DataFrame({"industry": ["retail", "mining", None], "a": [1, 2, 3]}))
    assert preparer.categories_["industry"] == ["it", "retail"]
    assert matrix[0, 0] == 1 and matrix[1, 0] == -1 and np.isnan(matrix[2, 0])
    assert preparer.monotone_ == [0, -1]


def test_preparer_fills_a_value_never_missing_in_training_with_its_median():
    frame = pd.DataFrame({"a": [1.0, 2.0, 10.0], "b": [1.0, np.nan, 3.0]})
    preparer = FeaturePreparer((_feature("a"), _feature("b"))).fit(frame)
    matrix = preparer.transform(pd.DataFrame({"a": [np.nan], "b": [np.nan]}))
    assert matrix[0, 0] == 2.0  # the median, not LightGBM's reading of NaN as 0
    assert np.isnan(matrix[0, 1])  # missing in training: its own learned bin


def test_preparer_names_missing_columns_and_the_fix():
    preparer = FeaturePreparer((_feature("a"), _feature("b"))).fit(
        pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    )
    with pytest.raises(ValueError, match=r"lacks the model's feature column\(s\) \['b'\]; compute features"):
        preparer.transform(pd.DataFrame({"a": [1.0]}))


# --- GBM and scorecard -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: MonotoneGBM(SMALL_GBM, (1, 0, 0), (2,)),
        lambda: MonotoneGBM(BAGGED_GBM, (1, 0, 0), (2,)),
        lambda: BinnedScorecard(5, 0.1, (2,)),
    ],
    ids=["gbm", "bagged gbm", "scorecard"],
)
def test_contributions_add_up_to_the_raw_score(risk_data, make):
    x, y = risk_data
    model = make().fit(x, y)
    contributions, base = model.contributions(x[:200])
    assert contributions.shape == (200, 3)
    np.testing.assert_allclose(contributions.sum(axis=1) + base, model.raw_score(x[:200]), atol=1e-9)


@pytest.mark.parametrize(
    "make",
    [lambda: MonotoneGBM(SMALL_GBM, (1, 0, 0), (2,)), lambda: BinnedScorecard(5, 0.1, (2,))],
    ids=["gbm", "scorecard"],
)
def test_models_rank_risk_well_above_chance(risk_data, make):
    x, y = risk_data
    assert auc(y[1500:], make().fit(x[:1500], y[:1500]).raw_score(x[1500:])) > 0.75


def test_bagged_gbm_averages_one_gbm_per_seed(risk_data):
    x, y = risk_data
    bagged = MonotoneGBM(BAGGED_GBM, (1, 0, 0), (2,), random_state=4).fit(x, y)
    singles = [MonotoneGBM(SMALL_GBM, (1, 0, 0), (2,), random_state=4 + bag).fit(x, y) for bag in range(3)]
    assert len(bagged.boosters_) == 3 and bagged.n_trees_ == sum(m.n_trees_ for m in singles)
    np.testing.assert_allclose(bagged.raw_score(x), np.mean([m.raw_score(x) for m in singles], axis=0))
    np.testing.assert_allclose(bagged.importance(), np.mean([m.importance() for m in singles], axis=0))
    assert not np.allclose(singles[0].raw_score(x), singles[1].raw_score(x))  # the seeds differ


def test_gbm_passes_bins_and_early_stopping_metric_to_lightgbm(risk_data):
    """Coarser bins change the trees; log loss may stop at another round than AUC; both still rank risk."""
    x, y = risk_data
    default = MonotoneGBM(SMALL_GBM).fit(x, y)
    coarse = MonotoneGBM(
        dataclasses.replace(SMALL_GBM, max_bin=3, early_stopping_metric="binary_logloss")
    ).fit(x, y)
    assert coarse.booster_.params["max_bin"] == 3
    assert not np.allclose(default.raw_score(x), coarse.raw_score(x))
    assert auc(y, coarse.raw_score(x)) > 0.7


@pytest.mark.parametrize("params", [SMALL_GBM, BAGGED_GBM], ids=["gbm", "bagged gbm"])
def test_gbm_respects_its_monotone_constraint(risk_data, params):
    x, y = risk_data
    model = MonotoneGBM(params, (1, 0, 0), (2,)).fit(x, y)
    grid = np.tile(x[:50], (21, 1, 1))
    grid[:, :, 0] = np.linspace(-3, 3, 21)[:, None]
    scores = np.stack([model.raw_score(g) for g in grid])  # (21 values, 50 rows)
    assert (np.diff(scores, axis=0) >= -1e-12).all()


def test_scorecard_follows_its_risk_directions_even_against_the_data():
    """Column 0 raises risk only in its middle bins; column 1 lowers it but is declared to raise it."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, 2))
    logit = -1 + 1.5 * (np.abs(x[:, 0]) < 0.5) - 1.0 * x[:, 1]
    y = (rng.random(4000) < 1 / (1 + np.exp(-logit))).astype(float)
    free = BinnedScorecard(8, 1.0).fit(x, y)
    assert np.any(np.diff(free.woe_[0][:8]) < 0) and free.coef_[1] > 0
    directed = BinnedScorecard(8, 1.0, monotone=(1, 1)).fit(x, y)
    grid = np.column_stack([np.linspace(-3, 3, 61), np.zeros(61)])
    assert (np.diff(directed.raw_score(grid)) >= -1e-12).all()
    assert directed.importance()[1] < 1e-6  # its effect ran against the direction: no spread left
    down = np.column_stack([np.zeros(61), np.linspace(-3, 3, 61)])
    assert (np.diff(directed.raw_score(down)) >= -1e-12).all()


def test_scorecard_gives_missing_values_their_own_bin(risk_data):
    x, y = risk_data
    model = BinnedScorecard(4, 0.1).fit(x, y)
    assert len(model.woe_[1]) == len(model.edges_[1]) + 3  # values, missing, unseen category
    assert model.woe_[1][-2] != 0.0 and model.woe_[1][-1] == 0.0  # 200 missing rows: a learned bin
    assert np.isfinite(model.raw_score(np.array([[0.0, np.nan, 1.0]]))).all()


def test_scorecard_scores_unseen_categories_and_unsupported_missing_bins_as_neutral(risk_data):
    x, y = risk_data
    x = x.copy()
    x[:, 1] = np.nan_to_num(x[:, 1])  # no missing value left in column 1 for training
    model = BinnedScorecard(categorical=(2,)).fit(x, y)
    probe = np.array([[0.0, np.nan, 7.0]])  # column 1 missing (never seen), category 7 never seen
    woe = model.transform_woe(probe)[0]
    assert woe[1] == 0.0 and woe[2] == 0.0
    assert model.woe_[0][-2] == 0.0  # column 0 had no missing value: its missing bin is neutral
    assert np.abs(model.woe_[2][:3]).max() > 0.05  # the seen categories keep a learned weight


@pytest.mark.parametrize("model", [MonotoneGBM(SMALL_GBM), BinnedScorecard()], ids=["gbm", "scorecard"])
def test_fit_refuses_a_single_class(model):
    with pytest.raises(ValueError, match="needs both classes"):
        model.fit(np.zeros((10, 1)), np.zeros(10))


# --- calibration -----------------------------------------------------------------------------


def test_calibrator_chooses_a_method_and_keeps_the_order_of_scores():
    rng = np.random.default_rng(4)
    raw = rng.normal(size=3000)
    y = (rng.uniform(size=3000) < 1 / (1 + np.exp(-(2 * raw - 1)))).astype(float)
    calibrator = ScoreCalibrator().fit(raw, y)
    assert calibrator.method_ in ("platt", "isotonic") and set(calibrator.cv_log_loss_) == {
        "platt",
        "isotonic",
    }
    p = calibrator.predict(np.sort(raw))
    assert (np.diff(p) >= 0).all() and (p > 0).all() and (p < 1).all()
    assert p.mean() == pytest.approx(y.mean(), abs=0.02)


def _u_shaped_truth(n: int = 6000, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores whose true PD is flat and then rises steeply: far from logistic, so isotonic fits better."""
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=n)
    truth = np.where(raw < 0.5, 0.02, 0.02 + 0.5 * (raw - 0.5))
    y = (rng.uniform(size=n) < np.clip(truth, 0, 0.9)).astype(float)
    groups = np.arange(n) // 4  # four rows per customer
    return raw, y, groups


def test_isotonic_calibration_is_strictly_increasing_inside_and_beyond_the_fitted_range():
    raw, y, _ = _u_shaped_truth()
    calibrator = ScoreCalibrator("isotonic").fit(raw, y)
    grid = np.linspace(raw.min() - 2, raw.max() + 2, 2000)
    assert (np.diff(calibrator.predict(grid)) > 0).all()
    assert strictly_increasing(calibrator, raw)
    assert calibrator.n_distinct_ == len(np.unique(raw))
    assert calibrator.predict(np.array([raw.max()]))[0] > 0.3  # the steep part is kept, not flattened


def test_isotonic_calibration_of_heavily_tied_scores_is_finite_and_increasing():
    # a small model gives few distinct scores: quantile bins of one tied score have means
    # that differ in the last bits, which isotonic regression turned into NaN
    rng = np.random.default_rng(3)
    tied = -4.580118047804567
    raw = np.concatenate([np.full(720, -4.74178538), rng.uniform(-4.72, -4.69, 300), np.full(178, tied)])
    y = (rng.uniform(size=len(raw)) < np.where(raw > -4.7, 0.05, 0.002)).astype(float)
    y[-60:] = (np.arange(60) % 15 == 0).astype(float)
    calibrator = ScoreCalibrator("isotonic").fit(raw, y)
    grid = np.linspace(-5.0, -4.3, 500)
    assert np.isfinite(calibrator.predict(grid)).all()
    assert (np.diff(calibrator.predict(grid)) > 0).all()


def test_calibrator_chooses_isotonic_only_with_a_clear_gain_and_enough_distinct_values():
    raw, y, groups = _u_shaped_truth()
    clear = ScoreCalibrator(min_gain=0.0).fit(raw, y, groups)
    assert clear.cv_log_loss_["isotonic"] < clear.cv_log_loss_["platt"]
    assert clear.method_ == "isotonic" and clear.reason_.startswith("isotonic")
    small_gain = ScoreCalibrator(min_gain=1.0).fit(raw, y, groups)
    assert small_gain.method_ == "platt" and "gains" in small_gain.reason_
    too_few = ScoreCalibrator(min_gain=0.0, min_distinct=len(raw) + 1).fit(raw, y, groups)
    assert too_few.method_ == "platt" and "distinct" in too_few.reason_


def test_calibrator_folds_need_positive_and_negative_groups():
    raw = np.arange(40, dtype=float)
    y = (raw >= 36).astype(float)  # four positive rows, all of one customer
    groups = np.where(raw >= 36, 99, raw // 4)
    grouped = ScoreCalibrator().fit(raw, y, groups)
    assert grouped.cv_log_loss_ == {} and grouped.method_ == "platt" and "groups" in grouped.reason_
    assert ScoreCalibrator().fit(raw, y).cv_log_loss_  # four positive rows suffice without groups


def test_calibrator_still_applies_an_isotonic_step_function_of_an_older_model():
    calibrator = ScoreCalibrator("platt").fit(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0, 0, 1, 1]))
    calibrator.mapping_ = (np.array([0.0, 1.0, 2.0]), np.array([0.1, 0.2, 0.4]))
    assert calibrator.predict(np.array([-1.0, 0.5, 5.0])) == pytest.approx([0.1, 0.15, 0.4])


def test_calibrator_uses_platt_when_too_few_positives_to_compare():
    calibrator = ScoreCalibrator().fit(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0, 0, 0, 1]))
    assert calibrator.method_ == "platt" and calibrator.cv_log_loss_ == {}


# --- out-of-time design ----------------------------------------------------------------------------------


def _monthly_design(n_months: int = 60, horizon: int = 12):
    """Ten customers' month-end rows over ``n_months``; every seventh row positive."""
    months = pd.date_range("2021-01-31", periods=n_months, freq="ME")
    dates = pd.Series(np.repeat(months, 10))
    ends = dates + pd.DateOffset(months=horizon)
    positive = np.arange(len(dates)) % 7 == 0
    known = (ends <= months[-1]).to_numpy()
    return dates, ends, known, positive


def test_time_design_censors_by_date_for_both_classes():
    dates, ends, known, positive = _monthly_design()
    design = time_design(dates, ends, known, positive, 0.25, 3)
    crossing = known & (dates <= design.cut).to_numpy() & (ends > design.cut).to_numpy()
    assert positive[crossing].any() and (~positive[crossing]).any()
    assert not set(np.flatnonzero(crossing)) & set(design.development)
    assert not set(np.flatnonzero(crossing)) & set(design.validation)
    assert (ends.iloc[design.development] <= design.cut).all()


def test_time_design_leaves_a_gap_of_one_horizon_before_validation():
    dates, ends, known, positive = _monthly_design()
    design = time_design(dates, ends, known, positive, 0.25, 3)
    gap = dates.iloc[design.validation].min() - dates.iloc[design.development].max()
    assert gap >= pd.Timedelta(days=365)
    assert set(design.labelled) == set(np.flatnonzero(known))


def test_rolling_folds_fit_only_on_windows_closed_by_their_origin():
    dates, ends, known, positive = _monthly_design()
    design = time_design(dates, ends, known, positive, 0.25, 3)
    assert len(design.folds) == 3
    for fold in design.folds:
        assert (ends.iloc[fold.fit] <= fold.origin).all()
        assert (dates.iloc[fold.test] > fold.origin).all() and (dates.iloc[fold.test] <= fold.end).all()
        assert set(fold.test) <= set(design.development)


def test_time_design_names_a_history_too_short_for_development_gap_and_validation():
    dates, ends, known, positive = _monthly_design(n_months=20)
    with pytest.raises(NotEnoughDataError, match="history is too short|too short for a rolling origin"):
        time_design(dates, ends, known, positive, 0.25, 3)


def test_time_design_needs_positive_cases_on_two_dates():
    dates = pd.Series(pd.to_datetime(["2024-01-01"] * 5 + ["2024-02-01"] * 5))
    with pytest.raises(
        NotEnoughDataError, match="1 positive case\\(s\\) with a known outcome on 1 date\\(s\\)"
    ):
        time_design(dates, dates, np.ones(10, bool), np.array([True] + [False] * 9), 0.25, 3)


def test_stratified_design_folds_cover_development_once():
    y = np.array([0, 1] * 20)
    design = stratified_design(y, 10, 4, random_state=0)
    tested = np.sort(np.concatenate([fold.test for fold in design.folds]))
    assert np.array_equal(tested, np.arange(40)) and np.array_equal(design.validation, 40 + np.arange(10))
    assert sorted(design.labelled) == list(range(40))


# --- expected days beyond terms --------------------------------------------------------------


# --- champion gate ---------------------------------------------------------------------------


def test_gate_promotes_when_there_is_no_champion():
    decision = decide_promotion((0.7, 0.1), None, ChampionRule())
    assert decision.promoted and decision.reason == "no champion yet"


def test_gate_refuses_too_few_positive_cases_even_without_a_champion():
    decision = decide_promotion((0.9, 0.01), None, ChampionRule(), positives=3, min_positives=30)
    assert (
        not decision.promoted
        and "3 positive case(s)" in decision.reason
        and "min_positives" in decision.reason
    )
    assert decide_promotion((0.9, 0.01), None, ChampionRule(), positives=30, min_positives=30).promoted


def test_gate_promotes_a_better_challenger():
    decision = decide_promotion((0.80, 0.030), (0.78, 0.031), ChampionRule(min_auc_gain=0.01), "3")
    assert decision.promoted and decision.champion_version == "3" and decision.champion_auc == 0.78


def test_gate_refuses_a_lower_auc():
    assert not decide_promotion((0.77, 0.030), (0.78, 0.031), ChampionRule()).promoted


def test_gate_refuses_a_worse_brier_beyond_the_tolerance():
    rule = ChampionRule(min_auc_gain=0.0, brier_tolerance=0.001)
    assert not decide_promotion((0.80, 0.0325), (0.78, 0.031), rule).promoted
    assert decide_promotion((0.80, 0.0315), (0.78, 0.031), rule).promoted


# --- configuration ---------------------------------------------------------------------------


def test_the_shipped_yaml_holds_the_defaults():
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[2] / "training" / "configs" / "train.yaml"
    assert load_train_config(shipped) == TrainConfig()


def test_config_names_an_unknown_key(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("gbm:\n  n_estimators: 10\nlearning_rate: 0.1\n", encoding="utf-8")
    with pytest.raises(
        TrainConfigError,
        match=r"train.yaml: learning_rate is not a known key; expected keys under the top level: features, gbm",
    ):
        load_train_config(path)


def test_config_rejects_a_validation_share_outside_zero_and_one(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("validation_share: 1.2\n", encoding="utf-8")
    with pytest.raises(TrainConfigError, match="validation_share must be within \\(0, 1\\)"):
        load_train_config(path)


def test_params_are_flat_and_dotted():
    params = TrainConfig().params()
    assert params["gbm.learning_rate"] == 0.05 and params["features.windows_days"] == (90, 180, 365)


def test_application_data_is_constrained_where_the_domain_is_sure():
    """Better bureau score, more years in business, larger revenue never raise an applicant's PD (GBM and scorecard)."""
    from riskmodel.features.definitions import features_for
    from riskmodel.models.columns import FeaturePreparer

    features = features_for("onboarding")
    frame = pd.DataFrame({f.name: (["a", "b"] * 5 if f.categorical else np.arange(10.0)) for f in features})
    preparer = FeaturePreparer(features).fit(frame)
    direction = dict(zip(preparer.feature_names_, preparer.monotone_, strict=True))
    assert direction["bureau_score"] == direction["years_in_business"] == direction["annual_revenue"] == -1
