"""XGBoost bundles: a Booster saved as .json/.ubj; fine-tuning continues boosting on the new cohort.

Missing values go in as NaN (xgboost learns a default direction per split). Categorical columns
go in natively (`enable_categorical`) when the table has any, re-cast to the booster's own
level lists; a booster trained without categories gets them encoded by the bundle's `features`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from cohortbench.bundles.adapters.common import (
    as_matrix,
    binary_to_two_columns,
    categorical_names,
    check_labels,
    check_n_features,
    sample_weights,
    single_file,
    split_indices,
    with_levels,
)
from cohortbench.bundles.manifest import BundleError
from cohortbench.bundles.plan import Plan


def _ordered(X: pd.DataFrame, names: Sequence[str] | None, expected: int) -> pd.DataFrame:
    """Columns in the booster's own order when it knows their names, else by position."""
    if names:
        missing = [n for n in names if n not in X.columns]
        if missing:
            raise BundleError(f"the booster needs columns the workspace lacks: {', '.join(missing[:5])}")
        X = X[list(names)]
    check_n_features(expected, X, "the xgboost booster")
    return X


class XGBoostModel:
    """A multi:softprob (or binary:logistic) Booster; `params` (manifest model_args) tune continued boosting."""

    flop_count: int | None = None

    def __init__(self, booster: Any, suffix: str = ".json", params: Mapping[str, Any] | None = None) -> None:
        config = json.loads(booster.save_config())["learner"]
        self.objective = str(config["objective"]["name"])
        if self.objective not in ("multi:softprob", "multi:softmax", "binary:logistic"):
            raise BundleError(f"weights: xgboost objective {self.objective!r} is not a classifier's")
        self.n_classes = max(2, int(config["learner_model_param"]["num_class"]))
        self.booster, self.suffix, self.params = booster, suffix, dict(params or {})
        self.n_parameters: int | None = self._count_nodes()

    @classmethod
    def load(cls, path: Path, params: Mapping[str, Any] | None = None) -> Self:
        import xgboost as xgb

        file = single_file(path, frozenset({".json", ".ubj"}), "xgboost weights")
        return cls(xgb.Booster(model_file=str(file)), file.suffix.lower(), params)

    def _count_nodes(self) -> int:
        trees = json.loads(self.booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
        return sum(int(t["tree_param"]["num_nodes"]) for t in trees)

    def features(self, X: pd.DataFrame) -> pd.DataFrame:
        """The model's input table from the workspace's columns (identity unless overridden)."""
        return X

    def _dmatrix(self, X: pd.DataFrame, **kwargs: Any) -> Any:
        import xgboost as xgb

        names = self.booster.feature_names
        table = _ordered(self.features(X), names, self.booster.num_features())
        if categorical_names(table):
            # native categories: the booster re-codes them by name, so its own level lists rule
            table = with_levels(table, self._levels())
            return xgb.DMatrix(table, enable_categorical=True, missing=np.nan, **kwargs)
        return xgb.DMatrix(as_matrix(table), feature_names=names, missing=np.nan, **kwargs)

    def _levels(self) -> dict[str, list[str]]:
        """The level list of each categorical feature the booster was trained with (xgboost >= 3.1)."""
        import xgboost as xgb

        try:
            stored = self.booster.get_categories(export_to_arrow=True).to_arrow()
        except (AttributeError, ValueError, TypeError, xgb.core.XGBoostError):
            return {}
        return {str(n): [str(v) for v in a.to_pylist()] for n, a in stored or [] if a is not None}

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return binary_to_two_columns(np.asarray(self.booster.predict(self._dmatrix(X)), dtype=np.float64))

    def fine_tune(
        self, X: pd.DataFrame, y: np.ndarray, plan: Plan, *, classes: Sequence[str], device: str = "cpu"
    ) -> list[float]:
        """plan.epochs more boosting rounds at eta = plan.learning_rate, class weights as row weights."""
        import xgboost as xgb

        labels = check_labels(y, classes)
        if len(classes) != self.n_classes:
            raise BundleError(f"the booster has {self.n_classes} classes, the workspace {len(classes)}")
        train, val = split_indices(labels, plan)
        weights = sample_weights(labels, len(classes), plan)
        dtrain = self._dmatrix(X.iloc[train], label=labels[train], weight=_take(weights, train))
        evals = [(dtrain, "train")]
        if len(val):
            evals.append((self._dmatrix(X.iloc[val], label=labels[val], weight=_take(weights, val)), "val"))
        metric = "logloss" if self.objective == "binary:logistic" else "mlogloss"
        history: dict[str, Any] = {}
        self.booster = xgb.train(
            self._train_params(plan, device, metric),
            dtrain,
            num_boost_round=plan.epochs,
            xgb_model=self.booster,
            evals=evals,
            evals_result=history,
            verbose_eval=False,
            callbacks=_early_stopping(plan, evals[-1][1], metric),
        )
        self.n_parameters = self._count_nodes()
        return [float(v) for v in history["train"][metric]]

    def _train_params(self, plan: Plan, device: str, metric: str) -> dict[str, Any]:
        params: dict[str, Any] = {"objective": self.objective, "eval_metric": metric, "device": device}
        params |= {"learning_rate": plan.learning_rate, "seed": plan.seed}
        if self.objective != "binary:logistic":
            params["num_class"] = self.n_classes
        return params | self.params

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(path / f"model{self.suffix}"))


def _take(weights: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if weights is None else weights[rows]


def _early_stopping(plan: Plan, data_name: str, metric: str) -> list[Any]:
    import xgboost as xgb

    if plan.early_stopping_patience is None:
        return []
    return [
        xgb.callback.EarlyStopping(
            rounds=plan.early_stopping_patience, data_name=data_name, metric_name=metric, save_best=True
        )
    ]
