"""Gradient-boosted trees (LightGBM) with monotone constraints, on the native Booster."""

from __future__ import annotations

from collections.abc import Callable

import lightgbm as lgb
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from riskmodel.models.config import GBMParams


class MonotoneGBM(ClassifierMixin, BaseEstimator):
    """LightGBM binary classifier whose raw score is the log-odds the reason codes explain.

    ``fit`` expects rows in time order: it holds out the latest ``early_stopping_share`` of
    them to pick the number of trees, then refits on all rows with that many trees. With
    ``params.n_bags`` above 1 it does so once per bag, seeded ``random_state + bag``, and
    the raw score, contributions and importance are the bags' means.

    Parameters
    ----------
    params : GBMParams
        Tree and boosting parameters.
    monotone : tuple of int
        Per column: +1 risk rises with the value, -1 falls, 0 unconstrained.
    categorical : tuple of int
        Indices of integer-coded categorical columns.
    random_state : int
        Seed of bagging and feature sampling (of the first bag).
    n_threads : int
        LightGBM threads (0 = one per core).

    Attributes
    ----------
    boosters_ : tuple of lightgbm.Booster
        The fitted trees of each bag; predicting on numpy is the fast path.
    booster_ : lightgbm.Booster
        The first bag's trees (all of them when ``n_bags`` is 1).
    n_trees_ : int
        Number of boosting rounds kept, summed over the bags.
    """

    def __init__(
        self,
        params: GBMParams | None = None,
        monotone: tuple[int, ...] = (),
        categorical: tuple[int, ...] = (),
        random_state: int = 0,
        n_threads: int = 1,
    ) -> None:
        self.params = params
        self.monotone = monotone
        self.categorical = categorical
        self.random_state = random_state
        self.n_threads = n_threads

    def _lgb_params(self, n_columns: int, seed: int) -> dict:
        p = self.params or GBMParams()
        return {
            "objective": "binary",
            "learning_rate": p.learning_rate,
            "num_leaves": p.num_leaves,
            "max_depth": p.max_depth,
            "min_child_samples": p.min_child_samples,
            "bagging_fraction": p.subsample,
            "bagging_freq": 1 if p.subsample < 1 else 0,
            "feature_fraction": p.colsample_bytree,
            "lambda_l2": p.reg_lambda,
            "max_bin": p.max_bin,
            "monotone_constraints": list(self.monotone) or [0] * n_columns,
            "monotone_constraints_method": "intermediate",
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.n_threads,
            "verbosity": -1,
        }

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> MonotoneGBM:
        y = np.asarray(y, dtype=np.float64)
        if len(np.unique(y)) < 2:
            raise ValueError(f"MonotoneGBM needs both classes in y; got only {np.unique(y).tolist()}")
        if self.monotone and len(self.monotone) != X.shape[1]:
            raise ValueError(f"monotone has {len(self.monotone)} entries for {X.shape[1]} columns")
        p = self.params or GBMParams()
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        full = lgb.Dataset(
            X, y, weight=weight, categorical_feature=list(self.categorical), free_raw_data=False
        )
        boosters = []
        for bag in range(p.n_bags):
            params = self._lgb_params(X.shape[1], self.random_state + bag)
            rounds = self._best_rounds(X, y, weight, params, p)
            boosters.append(lgb.train(params, full, num_boost_round=rounds))
        self.boosters_ = tuple(boosters)
        self.booster_ = boosters[0]
        self.n_trees_ = sum(b.current_iteration() for b in boosters)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        return self

    def _best_rounds(
        self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None, params: dict, p: GBMParams
    ) -> int:
        """Trees to keep, from early stopping on the latest rows (all of them when those lack a class)."""
        n_stop = int(len(y) * p.early_stopping_share)
        fit_part, stop_part = slice(0, len(y) - n_stop), slice(len(y) - n_stop, len(y))
        if n_stop == 0 or len(np.unique(y[stop_part])) < 2 or len(np.unique(y[fit_part])) < 2:
            return p.n_estimators
        part = lgb.Dataset(
            X[fit_part],
            y[fit_part],
            weight=None if weight is None else weight[fit_part],
            categorical_feature=list(self.categorical),
        )
        stop = lgb.Dataset(
            X[stop_part], y[stop_part], weight=None if weight is None else weight[stop_part], reference=part
        )
        booster = lgb.train(
            {**params, "metric": p.early_stopping_metric},
            part,
            num_boost_round=p.n_estimators,
            valid_sets=[stop],
            callbacks=[
                lgb.early_stopping(
                    p.early_stopping_rounds, verbose=False, min_delta=p.early_stopping_min_delta
                )
            ],
        )
        return max(int(booster.best_iteration or p.n_estimators), 1)

    def _bag_mean(self, output: Callable[[lgb.Booster], np.ndarray]) -> np.ndarray:
        """Mean of ``output`` over the bags' boosters."""
        check_is_fitted(self, "booster_")
        boosters = getattr(self, "boosters_", (self.booster_,))  # models pickled before bagging have one
        return sum(output(booster) for booster in boosters) / len(boosters)

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        """Log-odds score of each row, shape (n_rows,)."""
        return self._bag_mean(lambda b: b.predict(X, raw_score=True, num_threads=self.n_threads))

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """TreeSHAP contributions (n_rows, n_features) and base (n_rows,); they sum to ``raw_score``."""
        values = self._bag_mean(lambda b: b.predict(X, pred_contrib=True, num_threads=self.n_threads))
        return values[:, :-1], values[:, -1]

    def importance(self) -> np.ndarray:
        """Total split gain of each feature (mean over the bags)."""
        return self._bag_mean(lambda b: b.feature_importance(importance_type="gain"))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated probabilities of shape (n_rows, 2)."""
        p = 1.0 / (1.0 + np.exp(-self.raw_score(X)))
        return np.column_stack([1 - p, p])
