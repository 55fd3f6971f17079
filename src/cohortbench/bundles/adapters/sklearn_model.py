"""scikit-learn bundles: skops weights loaded against an allow-list of types, never pickle."""

from __future__ import annotations

import copy
import importlib
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Self

import numpy as np
import pandas as pd

from cohortbench.bundles.adapters.common import (
    EarlyStopping,
    check_labels,
    check_n_features,
    log_loss,
    sample_weights,
    single_file,
    split_indices,
)
from cohortbench.bundles.manifest import BundleError
from cohortbench.bundles.plan import Plan

TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.sparse.")
#: callables under trusted prefixes that touch files or memory maps: never trusted
DENIED_NAMES = frozenset({"load", "loads", "save", "savez", "fromfile", "memmap", "tofile", "open_memmap"})
#: exact names outside the prefixes that the table pipelines need: HistGradientBoostingClassifier
#: with categorical_features="from_dtype" keeps `functools.partial(check_array, ...)` for its
#: preprocessing (skops audits the partial's function and arguments as nodes of their own, so the
#: function itself must still pass this allow-list).
TRUSTED_NAMES = frozenset({"functools.partial"})


def trusted_types(untrusted: list[str]) -> list[str]:
    """The types skops flags that we accept (sklearn/numpy/scipy.sparse and TRUSTED_NAMES), or refuse
    the file naming the rest."""
    refused = [
        t
        for t in untrusted
        if t not in TRUSTED_NAMES
        and (not t.startswith(TRUSTED_PREFIXES) or t.rsplit(".", 1)[-1] in DENIED_NAMES)
    ]
    if refused:
        raise BundleError(
            f"weights: the .skops file holds types outside the allow-list: {', '.join(refused)}"
        )
    return untrusted


_SKOPS_IMPORT = threading.Lock()


def skops_io() -> ModuleType:
    """skops.io, imported without building skops's default list of scikit-learn estimators.

    skops builds that list at import time with sklearn.utils.all_estimators, which imports every
    scikit-learn module: 3-4 s of CPU in each sandbox that loaded a .skops file, more than the rest
    of a small submission. The list is not needed here: `trusted_types` is the allow-list, and every
    load passes its result as `trusted`, so the estimators skops would trust by default are vetted
    by ours instead (any `sklearn.` type passes it, as they passed skops's list).
    """
    with _SKOPS_IMPORT:  # one thread patches, imports and restores; others wait for the module
        if "skops.io" in sys.modules:
            return sys.modules["skops.io"]
        import sklearn.utils

        every_estimator = sklearn.utils.all_estimators
        sklearn.utils.all_estimators = lambda *args, **kwargs: []
        try:
            return importlib.import_module("skops.io")
        finally:
            sklearn.utils.all_estimators = every_estimator


def _fitted_arrays(estimator: Any) -> int:
    """Learned values: the float arrays fitted on data (coef_, intercept_ ...), not classes_ or counters."""
    steps = [s for _, s in estimator.steps] if hasattr(estimator, "steps") else [estimator]
    arrays = [v for s in steps for k, v in vars(s).items() if k.endswith("_") and isinstance(v, np.ndarray)]
    return sum(int(a.size) for a in arrays if a.dtype.kind == "f")


def _rows(inputs: pd.DataFrame | np.ndarray, idx: np.ndarray) -> pd.DataFrame | np.ndarray:
    return inputs.iloc[idx] if isinstance(inputs, pd.DataFrame) else inputs[idx]


class SklearnModel:
    """A fitted classifier (or Pipeline) whose classes_ are the indices 0..k-1 of the workspace's classes.

    Subclass it in model.py and override `features` to engineer features from the named columns.
    """

    flop_count: int | None = None

    def __init__(self, estimator: Any) -> None:
        classes = np.asarray(getattr(estimator, "classes_", []))
        if classes.dtype.kind not in "iu" or not np.array_equal(classes, np.arange(len(classes))):
            raise BundleError(
                "weights: the estimator must be fitted on class indices 0..k-1 in the workspace's class order"
            )
        self.estimator = estimator
        self.n_parameters: int | None = _fitted_arrays(estimator) or None

    @classmethod
    def load(cls, path: Path) -> Self:
        sio = skops_io()
        file = single_file(path, frozenset({".skops"}), "sklearn weights")
        allowed = trusted_types(sio.get_untrusted_types(file=file))
        return cls(sio.load(file, trusted=allowed))

    def features(self, X: pd.DataFrame) -> pd.DataFrame:
        """The model's input table from the workspace's columns (identity unless overridden)."""
        return X

    def _inputs(self, X: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        table = self.features(X)
        names = getattr(self.estimator, "feature_names_in_", None)
        if names is not None and isinstance(table, pd.DataFrame):
            missing = [n for n in names if n not in table.columns]
            if missing:
                raise BundleError(
                    f"the estimator needs columns the workspace lacks: {', '.join(missing[:5])}"
                )
            return table[list(names)]
        expected = getattr(self.estimator, "n_features_in_", None)
        if expected is not None:
            check_n_features(int(expected), table, "the sklearn estimator")
        return table.to_numpy() if isinstance(table, pd.DataFrame) else table

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator.predict_proba(self._inputs(X)), dtype=np.float64)

    def fine_tune(
        self, X: pd.DataFrame, y: np.ndarray, plan: Plan, *, classes: Sequence[str], device: str = "cpu"
    ) -> list[float]:
        """partial_fit for plan.epochs epochs where the estimator supports it, else a seeded refit."""
        labels = check_labels(y, classes)
        inputs = self._inputs(X)
        weights = sample_weights(labels, len(classes), plan)
        if hasattr(self.estimator, "partial_fit"):
            return self._epochs(inputs, labels, weights, plan, len(classes))
        return self._refit(inputs, labels, weights, plan)

    def _refit(self, inputs: Any, y: np.ndarray, weights: np.ndarray | None, plan: Plan) -> list[float]:
        seeds = {k: plan.seed for k in self.estimator.get_params() if k.endswith("random_state")}
        self.estimator.set_params(**seeds)
        self.estimator.fit(inputs, y, **self._weight_kwargs(weights))
        return [log_loss(y, self.estimator.predict_proba(inputs), weights)]

    def _weight_kwargs(self, weights: np.ndarray | None) -> dict[str, np.ndarray]:
        from sklearn.utils.validation import has_fit_parameter

        if weights is None:
            return {}
        if hasattr(self.estimator, "steps"):
            name, last = self.estimator.steps[-1]
            return {f"{name}__sample_weight": weights} if has_fit_parameter(last, "sample_weight") else {}
        return {"sample_weight": weights} if has_fit_parameter(self.estimator, "sample_weight") else {}

    def _epochs(
        self, inputs: Any, y: np.ndarray, weights: np.ndarray | None, plan: Plan, k: int
    ) -> list[float]:
        train, val = split_indices(y, plan)
        watched = val if len(val) else train
        rng = np.random.default_rng(plan.seed)
        stopper = EarlyStopping(plan.early_stopping_patience)
        losses: list[float] = []
        for _ in range(plan.epochs):
            order = rng.permutation(train)
            kwargs = {"sample_weight": weights[order]} if weights is not None else {}
            self.estimator.partial_fit(_rows(inputs, order), y[order], classes=np.arange(k), **kwargs)
            losses.append(log_loss(y[train], self.estimator.predict_proba(_rows(inputs, train))))
            loss = log_loss(y[watched], self.estimator.predict_proba(_rows(inputs, watched)))
            if stopper.should_stop(loss, lambda: copy.deepcopy(self.estimator)):
                break
        if stopper.best is not None:
            self.estimator = stopper.best
        return losses

    def save(self, path: Path) -> None:
        sio = skops_io()
        path.mkdir(parents=True, exist_ok=True)
        sio.dump(self.estimator, path / "model.skops")
