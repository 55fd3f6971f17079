"""Helpers every adapter shares: feature matrices, class weights, validation splits, log loss."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cohortbench.bundles.manifest import BundleError
from cohortbench.bundles.plan import Plan
from cohortbench.errors import ValidationError


def categorical_names(X: pd.DataFrame | np.ndarray) -> list[str]:
    """The columns of a table that are pandas `category` (or text): not numbers a matrix can hold."""
    if not isinstance(X, pd.DataFrame):
        return []
    return [
        str(c)
        for c, dtype in X.dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(dtype)
    ]


def as_matrix(X: pd.DataFrame | np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """A dense 2-D float matrix (booleans and integers become floats; NaN stays NaN).

    Categorical columns have no float value: a bundle whose model takes a matrix encodes them in
    its `features` (docs/runtime.md shows how); here they get a clear error naming them.
    """
    text = categorical_names(X)
    if text:
        raise ValidationError(
            f"categorical column(s) {', '.join(text[:5])} cannot go into a float matrix: encode them "
            "in the model's features() (see docs/runtime.md, 'Missing values and categories')",
            code="bad_input",
        )
    matrix = X.to_numpy(dtype=dtype) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=dtype)
    if matrix.ndim != 2:
        raise ValidationError(f"features must be a 2-D table, got {matrix.ndim} dimensions")
    return matrix


def check_n_features(expected: int, X: pd.DataFrame | np.ndarray, what: str) -> None:
    """A clear error when the workspace's columns do not match what the model was trained on."""
    got = X.shape[1]
    if got != expected:
        raise ValidationError(
            f"{what} expects {expected} features but the workspace has {got}; "
            "pretrain on the workspace's public schema (or select columns in model.py)",
            code="bad_input",
        )


def check_labels(y: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """y as int64 class indices in 0..k-1."""
    labels = np.asarray(y).astype(np.int64, copy=False).ravel()
    if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
        raise ValidationError(f"labels must be class indices 0..{len(classes) - 1}")
    return labels


def sample_weights(y: np.ndarray, n_classes: int, plan: Plan) -> np.ndarray | None:
    """'balanced' class weights as per-row weights (n / (k * count)), or None."""
    if plan.class_weight != "balanced":
        return None
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    per_class = np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)
    return np.asarray(per_class[y], dtype=np.float64)


def class_weight_vector(y: np.ndarray, n_classes: int, plan: Plan) -> np.ndarray | None:
    """'balanced' weights per class (for a weighted cross-entropy), or None."""
    if plan.class_weight != "balanced":
        return None
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    return np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)


def split_indices(y: np.ndarray, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Seeded, stratified train/validation row indices; validation is empty when the plan has none."""
    rows = np.arange(len(y))
    if plan.validation_fraction <= 0 or len(y) < 4:
        return rows, rows[:0]
    rng = np.random.default_rng(plan.seed)
    val: list[np.ndarray] = []
    for label in np.unique(y):
        members = rng.permutation(rows[y == label])
        take = round(len(members) * plan.validation_fraction)
        val.append(members[: min(take, len(members) - 1)])
    val_rows = np.sort(np.concatenate(val))
    return np.setdiff1d(rows, val_rows), val_rows


def log_loss(y: np.ndarray, proba: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean (weighted) cross-entropy of predicted probabilities."""
    picked = np.clip(proba[np.arange(len(y)), y], 1e-15, 1.0)
    return float(np.average(-np.log(picked), weights=weights))


def binary_to_two_columns(p: np.ndarray) -> np.ndarray:
    """A binary model's P(class 1) as the (n, 2) table the protocol promises."""
    return np.column_stack([1.0 - p, p]) if p.ndim == 1 else p


def single_file(path: Path, suffixes: frozenset[str], what: str) -> Path:
    """The weights file itself, or the only file with one of `suffixes` in the folder `path`."""
    if path.is_file():
        return path
    found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise BundleError(
            f"{what}: expected one {'/'.join(sorted(suffixes))} file in {path.name}/, found {names}"
        )
    return found[0]


class EarlyStopping:
    """Tracks the best watched loss and its snapshot; says when `patience` epochs brought no gain."""

    def __init__(self, patience: int | None) -> None:
        self.patience = patience
        self.best_loss = float("inf")
        self.best: object | None = None
        self.stale = 0

    def should_stop(self, loss: float, snapshot: Callable[[], object]) -> bool:
        if self.patience is None:
            return False
        if loss < self.best_loss:
            self.best_loss, self.best, self.stale = loss, snapshot(), 0
        else:
            self.stale += 1
        return self.stale >= self.patience


def with_levels(X: pd.DataFrame, levels: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """X with each named categorical column re-cast to the model's own level list, in its order.

    A booster's tree splits refer to the levels it was trained with; a workspace level it never
    saw becomes missing (NaN), which the booster handles, instead of an error or a wrong code.
    """
    present = {c: list(v) for c, v in levels.items() if c in X.columns}
    changed = {
        c: v
        for c, v in present.items()
        if not isinstance(X[c].dtype, pd.CategoricalDtype) or list(X[c].cat.categories) != v
    }
    if not changed:
        return X
    out = X.copy()
    for column, values in changed.items():
        text = out[column].astype(object).where(out[column].notna())
        text = text.map(lambda v: v if v is None else str(v))
        out[column] = text.where(text.isin(values)).astype(pd.CategoricalDtype(values))
    return out
