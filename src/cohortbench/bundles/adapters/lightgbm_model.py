"""LightGBM bundles: a model saved as text; fine-tuning continues boosting from it (init_model).

Missing values go in as NaN; a table with categorical columns goes in as a DataFrame, so LightGBM
uses its native categorical splits (`categorical_feature="auto"`: the `category` columns) with the
level lists stored in the model (`pandas_categorical`).

Continued boosting starts from the shipped model's scores, not from the class averages, and a
pretrained model is often confidently wrong on a new cohort (a rare class it learned to ignore, a
site shift). Each leaf takes the Newton step -sum(g) / sum(h). With softmax loss, a row predicted
at p for its true class has g ~ -1 but h ~ p, so a leaf of a few such rows gets a value of order
1/p: 81 on the DILI example (6 severe rows at p ~ 5e-4), where a pure leaf in the first round of a
model trained from scratch (p = 1/k) gets k - 1, 3 for DILI's four classes. LightGBM sets no bound
(max_delta_step 0, min_sum_hessian_in_leaf 1e-3), so one round at learning rate 0.1 moved those
rows by 8 logits, the next rounds overshot back, and the training loss jumped and oscillated.

Fine-tuning therefore caps each leaf's value at MAX_LEAF_STEP before shrinkage (max_delta_step, a
trust region on the Newton step): well-conditioned leaves are untouched, and the confidently wrong
rows still move, by at most learning_rate x MAX_LEAF_STEP logits a round. Requiring a hessian sum
per leaf instead (XGBoost's min_child_weight 1) also steadies the DILI case, but it freezes a
confident model on a small cohort, where no leaf reaches the sum.
"""

from __future__ import annotations

import re
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

_DEFAULT_NAME = re.compile(r"Column_\d+")
#: largest leaf value (before shrinkage) when boosting continues from a possibly confident model; see
#: above. The manifest's model_args may set max_delta_step (under any of LightGBM's names) instead.
MAX_LEAF_STEP = 5.0
_MAX_STEP_NAMES = frozenset({"max_delta_step", "max_tree_output", "max_leaf_output"})


class LightGBMModel:
    """A multiclass (or binary) LightGBM Booster; `params` (manifest model_args) tune continued boosting."""

    flop_count: int | None = None

    def __init__(self, booster: Any, params: Mapping[str, Any] | None = None) -> None:
        header = booster.model_to_string(num_iteration=0).split("\n", 40)
        fields = dict(line.split("=", 1) for line in header if "=" in line)
        self.objective = fields.get("objective", "").split(" ")[0]
        if self.objective not in ("multiclass", "multiclassova", "binary"):
            raise BundleError(f"weights: lightgbm objective {self.objective!r} is not a classifier's")
        self.n_classes = max(2, int(fields.get("num_class", "1")))
        self.booster, self.params = booster, dict(params or {})
        self.n_parameters: int | None = self._count_nodes()

    @classmethod
    def load(cls, path: Path, params: Mapping[str, Any] | None = None) -> Self:
        import lightgbm as lgb

        file = single_file(path, frozenset({".txt"}), "lightgbm weights")
        return cls(lgb.Booster(model_file=str(file)), params)

    def _count_nodes(self) -> int:
        text = self.booster.model_to_string()
        return sum(2 * int(n) - 1 for n in re.findall(r"^num_leaves=(\d+)$", text, flags=re.MULTILINE))

    def features(self, X: pd.DataFrame) -> pd.DataFrame:
        """The model's input table from the workspace's columns (identity unless overridden)."""
        return X

    def _matrix(self, X: pd.DataFrame) -> np.ndarray | pd.DataFrame:
        """Columns in the booster's own order when it was trained with names, else by position.

        A table with categorical columns stays a DataFrame (LightGBM's native categories), its
        columns re-cast to the booster's own level lists (a level it never saw becomes missing).
        """
        table = self.features(X)
        names = list(self.booster.feature_name())
        if not all(_DEFAULT_NAME.fullmatch(n) for n in names):
            missing = [n for n in names if n not in table.columns]
            if missing:
                raise BundleError(f"the booster needs columns the workspace lacks: {', '.join(missing[:5])}")
            table = table[names]
        check_n_features(self.booster.num_feature(), table, "the lightgbm booster")
        text = categorical_names(table)
        if text:
            known = self.booster.pandas_categorical or []
            return with_levels(table, dict(zip(text, known, strict=False)))
        return as_matrix(table, np.float64)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return binary_to_two_columns(np.asarray(self.booster.predict(self._matrix(X)), dtype=np.float64))

    def fine_tune(
        self, X: pd.DataFrame, y: np.ndarray, plan: Plan, *, classes: Sequence[str], device: str = "cpu"
    ) -> list[float]:
        """plan.epochs more rounds at plan.learning_rate from the current model, class weights as row weights.

        Returns the (weighted) log loss on the training rows after each round. Leaf values are capped at
        MAX_LEAF_STEP, so the rows a confident model is wrong about cannot get 1/p Newton steps.
        """
        import lightgbm as lgb

        labels = check_labels(y, classes)
        if len(classes) != self.n_classes:
            raise BundleError(f"the booster has {self.n_classes} classes, the workspace {len(classes)}")
        matrix, names = self._matrix(X), list(self.booster.feature_name())
        train, val = split_indices(labels, plan)
        weights = sample_weights(labels, len(classes), plan)

        def dataset(rows: np.ndarray, **kw: Any) -> Any:
            w = None if weights is None else weights[rows]
            if isinstance(matrix, pd.DataFrame):  # native categories: named, the booster's levels
                part = matrix.iloc[rows].set_axis(names, axis=1)
                return lgb.Dataset(part, labels[rows], weight=w, free_raw_data=False, **kw)
            return lgb.Dataset(
                matrix[rows], labels[rows], weight=w, feature_name=names, free_raw_data=False, **kw
            )

        dtrain = dataset(train)
        valid = [dtrain] + ([dataset(val, reference=dtrain)] if len(val) else [])
        history: dict[str, Any] = {}
        callbacks = [lgb.record_evaluation(history)]
        if plan.early_stopping_patience is not None:
            callbacks.append(
                lgb.early_stopping(plan.early_stopping_patience, first_metric_only=True, verbose=False)
            )
        self.booster = lgb.train(
            self._train_params(plan, device),
            dtrain,
            num_boost_round=plan.epochs,
            init_model=self.booster,
            valid_sets=valid,
            valid_names=["train", "val"][: len(valid)],
            callbacks=callbacks,
        )
        self.n_parameters = self._count_nodes()
        return [float(v) for v in next(iter(history["train"].values()))]

    def _train_params(self, plan: Plan, device: str) -> dict[str, Any]:
        params: dict[str, Any] = {"objective": self.objective, "learning_rate": plan.learning_rate}
        params |= {"seed": plan.seed, "verbosity": -1, "deterministic": True, "device_type": _device(device)}
        params |= {"lambda_l2": plan.weight_decay}
        if not _MAX_STEP_NAMES & self.params.keys():
            params["max_delta_step"] = MAX_LEAF_STEP
        if self.objective != "binary":
            params["num_class"] = self.n_classes
        return params | self.params

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(path / "model.txt"))


def _device(device: str) -> str:
    """LightGBM's pip wheel has no CUDA build: boosting stays on the CPU."""
    return "cpu"
