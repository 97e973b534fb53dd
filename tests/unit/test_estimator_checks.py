"""scikit-learn's estimator checks on our estimators: the conventions that apply to them must hold.

Our estimators are inner parts of the training pipeline, not general-purpose sklearn
estimators: they take the float matrix ``FeaturePreparer`` builds (numpy, NaN for missing,
labels 0/1), validate none of it again, and expose ``predict_proba`` and ``raw_score`` but no
``predict``, since decisions are taken by the credit policy on the calibrated PD. So every
check runs, and the ones that test what our estimators do not promise are listed below with
the reason and not run (run as expected failures they would cost about a second each, for
pytest to format sklearn's tracebacks). Every other check must pass.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

from riskmodel.models.calibration import ScoreCalibrator
from riskmodel.models.columns import FeaturePreparer
from riskmodel.models.config import GBMParams
from riskmodel.models.gbm import MonotoneGBM
from riskmodel.models.scorecard import BinnedScorecard

TINY_GBM = GBMParams(n_estimators=10, early_stopping_rounds=5, min_child_samples=2)


def _binary_with_missing_values(tags):
    """The input contract both classifiers document: two classes only, NaN allowed (a bin, or a tree branch)."""
    tags.classifier_tags.multi_class = False
    tags.input_tags.allow_nan = True
    return tags


class GBM(MonotoneGBM):
    """``MonotoneGBM`` declaring its documented input contract as sklearn tags (the class itself declares none)."""

    def __sklearn_tags__(self):
        return _binary_with_missing_values(super().__sklearn_tags__())


class Scorecard(BinnedScorecard):
    """``BinnedScorecard`` declaring its documented input contract as sklearn tags (the class itself declares none)."""

    def __sklearn_tags__(self):
        return _binary_with_missing_values(super().__sklearn_tags__())


NO_PREDICT = "no predict(): the classifiers give predict_proba and raw_score; the policy decides on the PD"
NUMPY_ONLY = "takes the 2-D float ndarray FeaturePreparer builds and does not validate its input again"
ZERO_ONE_LABELS = "labels must be 0/1 floats (no label encoding, no check of the target type)"
OWN_MESSAGE = "raises its own message ('needs both classes in y') rather than sklearn's wording"

CLASSIFIER_EXCLUSIONS = {
    "check_fit_score_takes_y": NO_PREDICT,
    "check_pipeline_consistency": NO_PREDICT,
    "check_supervised_y_2d": NO_PREDICT,
    "check_n_features_in_after_fitting": NUMPY_ONLY,
    "check_sample_weights_not_an_array": NUMPY_ONLY,
    "check_classifier_data_not_an_array": NUMPY_ONLY,
    "check_classifiers_train": NUMPY_ONLY,
    "check_complex_data": NUMPY_ONLY,
    "check_estimator_sparse_tag": NUMPY_ONLY,
    "check_estimator_sparse_array": NUMPY_ONLY,
    "check_estimator_sparse_matrix": NUMPY_ONLY,
    "check_fit1d": NUMPY_ONLY,
    "check_fit2d_predict1d": NUMPY_ONLY,
    "check_requires_y_none": NUMPY_ONLY,
    "check_classifiers_classes": ZERO_ONE_LABELS,
    "check_classifiers_regression_target": ZERO_ONE_LABELS,
    "check_classifier_not_supporting_multiclass": ZERO_ONE_LABELS,
    "check_fit2d_1sample": OWN_MESSAGE,
    "check_classifiers_one_label_sample_weights": OWN_MESSAGE,
}

EXCLUDED = {
    GBM: CLASSIFIER_EXCLUSIONS
    | {
        "check_estimators_empty_data_messages": NUMPY_ONLY + " (LightGBM raises on 0 columns)",
        "check_sample_weights_shape": NUMPY_ONLY + " (LightGBM accepts a weight of the wrong shape)",
        "check_all_zero_sample_weights_error": NUMPY_ONLY + " (LightGBM accepts all-zero weights)",
        "check_sample_weight_equivalence_on_dense_data": (
            "early stopping holds out the latest rows, so repeating a row is not the same as weighting it"
        ),
    },
    Scorecard: CLASSIFIER_EXCLUSIONS
    | {
        "check_sample_weights_pandas_series": NUMPY_ONLY + " (indexes X[:, j])",
        "check_dtype_object": NUMPY_ONLY + " (np.isnan on object arrays)",
        "check_estimators_dtypes": ZERO_ONE_LABELS + " (labels 1/2 give NaN weights of evidence)",
        "check_sample_weights_shape": ZERO_ONE_LABELS + " (labels 1/2 give NaN weights of evidence)",
        "check_sample_weights_not_overwritten": ZERO_ONE_LABELS
        + " (labels 1/2 give NaN weights of evidence)",
        "check_fit2d_1feature": ZERO_ONE_LABELS + " (labels 1/2 give NaN weights of evidence)",
        "check_sample_weight_equivalence_on_dense_data": (
            "bin edges are unweighted quantiles and the WoE adds a pseudo-count per bin"
        ),
    },
}


def _calibrator_exclusions() -> dict[str, str]:
    one_d = "fits a 1-D raw score (n_rows,) to labels, not an (n_rows, n_features) matrix"
    names = [
        "check_fit_score_takes_y",
        "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self",
        "check_readonly_memmap_input",
        "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit",
        "check_estimators_dtypes",
        "check_complex_data",
        "check_dtype_object",
        "check_estimators_empty_data_messages",
        "check_pipeline_consistency",
        "check_estimators_nan_inf",
        "check_estimator_sparse_tag",
        "check_estimator_sparse_array",
        "check_estimator_sparse_matrix",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit2d_1sample",
        "check_dict_unchanged",
        "check_fit_idempotent",
        "check_fit_check_is_fitted",
        "check_n_features_in",
        "check_fit1d",
        "check_fit2d_predict1d",
    ]
    return dict.fromkeys(names, one_d)


def _preparer_exclusions() -> dict[str, str]:
    frames = "selects feature columns of a pandas DataFrame by name; ndarray input has none"
    names = [
        "check_fit_score_takes_y",
        "check_n_features_in_after_fitting",
        "check_estimators_dtypes",
        "check_complex_data",
        "check_dtype_object",
        "check_estimators_empty_data_messages",
        "check_pipeline_consistency",
        "check_estimators_nan_inf",
        "check_estimator_sparse_tag",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_transformer_preserve_dtypes",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_dict_unchanged",
        "check_fit_idempotent",
        "check_n_features_in",
        "check_fit1d",
        "check_fit2d_predict1d",
    ]
    return dict.fromkeys(names, frames)


EXCLUDED[ScoreCalibrator] = _calibrator_exclusions()
EXCLUDED[FeaturePreparer] = _preparer_exclusions()


ESTIMATORS = [GBM(TINY_GBM), Scorecard(), ScoreCalibrator(), FeaturePreparer()]


def _check_name(check: Callable) -> str:
    return check.func.__name__ if isinstance(check, partial) else check.__name__


def _check_id(estimator: object, check: Callable) -> str:
    keywords = check.keywords if isinstance(check, partial) else {}
    suffix = ",".join(f"{key}={value}" for key, value in keywords.items())
    return f"{type(estimator).__name__}-{_check_name(check)}" + (f"({suffix})" if suffix else "")


def _applicable_checks() -> list:
    """(estimator, check) pairs of every check not excluded above; the excluded ones are not run at all."""
    return [
        pytest.param(estimator, check, id=_check_id(estimator, check))
        for estimator in ESTIMATORS
        for estimator, check in estimator_checks_generator(estimator, legacy=True)
        if _check_name(check) not in EXCLUDED[type(estimator)]
    ]


@pytest.mark.parametrize(("estimator", "check"), _applicable_checks())
def test_sklearn_conventions(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda estimator: type(estimator).__name__)
def test_every_excluded_check_exists(estimator):
    """A check that scikit-learn renames or drops must leave the exclusion list too."""
    names = {_check_name(check) for _, check in estimator_checks_generator(estimator, legacy=True)}
    assert set(EXCLUDED[type(estimator)]) <= names
