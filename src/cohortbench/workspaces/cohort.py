"""Turning an owner's table into a cohort version: validation that names the problem, and the split."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from cohortbench.errors import ValidationError
from cohortbench.workspaces.columns import (
    MAX_LEVELS,
    apply_categories,
    categorical_columns,
    level_order,
    unknown_levels,
)

MIN_PER_CLASS = 2


MISSING_LABELS = ("refuse", "drop")


@dataclass(frozen=True)
class CohortTable:
    """A validated cohort: the frame, its columns' roles, the class order and the categorical levels.

    Feature values may be missing (NaN, kept as such); categorical columns are `category` dtype
    with `categories[column]` as their fixed level order. `n_dropped` records without a label were
    left out at the owner's request (`missing_labels="drop"`).
    """

    frame: pd.DataFrame
    id_column: str
    label_column: str
    classes: tuple[str, ...]
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    n_dropped: int = 0

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(c for c in self.frame.columns if c not in (self.id_column, self.label_column))

    def labels(self) -> np.ndarray:
        """Label of each record as a class index in `classes` order."""
        lookup = {c: i for i, c in enumerate(self.classes)}
        return np.array([lookup[str(v)] for v in self.frame[self.label_column]], dtype=np.int64)


def validate_cohort(
    frame: pd.DataFrame,
    *,
    id_column: str,
    label_column: str,
    classes: tuple[str, ...] | None = None,
    holdout_fraction: float = 0.2,
    categorical: Sequence[str] = (),
    categories: Mapping[str, Sequence[str]] | None = None,
    missing_labels: str = "refuse",
) -> CohortTable:
    """Check an owner's table and name every problem (never fix anything silently).

    Missing feature values are allowed (kept as NaN). Problems: missing id/label column, records
    without a label (unless `missing_labels="drop"`), missing or duplicate ids, infinite values,
    fewer than 2 classes, a class too small to split. Categorical features are the `categorical`
    columns plus every text column; `categories` (a workspace's stored levels) fixes their levels,
    and a value outside them is a problem; otherwise the observed levels are sorted.
    """
    for column, role in ((id_column, "id"), (label_column, "label")):
        if column not in frame.columns:
            raise ValidationError(
                f"{role} column {column!r} not found; columns are: {', '.join(frame.columns[:10])}"
            )
    if missing_labels not in MISSING_LABELS:
        raise ValidationError(f"missing labels must be 'refuse' or 'drop', got {missing_labels!r}")
    problems: list[str] = []
    unlabelled = frame[label_column].isna().to_numpy()
    n_dropped = 0
    if unlabelled.any() and missing_labels == "drop":
        frame, n_dropped = frame[~unlabelled], int(unlabelled.sum())
    elif unlabelled.any():
        problems.append(
            f"{int(unlabelled.sum())} record(s) without a label in column {label_column!r} "
            "(--missing-labels drop leaves them out)"
        )
    frame = _integral_labels(frame, label_column)
    no_id = int(frame[id_column].isna().sum())
    if no_id:
        problems.append(f"{no_id} record(s) without an id in column {id_column!r}")
    dup = int(frame[id_column].dropna().duplicated().sum())
    if dup:
        problems.append(f"{dup} duplicate id(s) in column {id_column!r}")
    features = [c for c in frame.columns if c not in (id_column, label_column)]
    if not features:
        problems.append("no feature columns")
    cat_columns = categorical_columns(frame, features, [*categorical, *(categories or {})])
    levels, level_problems = _levels(frame, cat_columns, categories or {})
    problems += level_problems
    infinite = _infinite_columns(frame, [c for c in features if c not in levels])
    if infinite:
        problems.append(
            f"infinite values (inf or -inf) in {len(infinite)} column(s): "
            + ", ".join(f"{c} ({n})" for c, n in infinite[:5])
        )
    if not 0.05 <= holdout_fraction <= 0.5:
        problems.append(f"holdout fraction must be between 0.05 and 0.5, got {holdout_fraction}")
    labels = frame[label_column].dropna().astype(str)
    observed = tuple(sorted(labels.unique(), key=_natural_key))
    order = classes if classes is not None else observed
    unknown = sorted(set(observed) - set(order))
    if unknown:
        problems.append(f"labels not among the declared classes: {', '.join(unknown[:5])}")
    if len(observed) < 2:
        problems.append(f"need at least 2 classes, found {len(observed)}")
    counts = labels.value_counts()
    small = [
        c for c in order if counts.get(c, 0) < MIN_PER_CLASS / min(holdout_fraction, 1 - holdout_fraction)
    ]
    if small and len(observed) >= 2:
        problems.append(f"class(es) too small to split into train and holdout: {', '.join(small)}")
    if problems:
        raise ValidationError("invalid cohort: " + "; ".join(problems))
    stored = apply_categories(frame.reset_index(drop=True), levels)
    return CohortTable(stored, id_column, label_column, tuple(order), levels, n_dropped)


def _integral_labels(frame: pd.DataFrame, label_column: str) -> pd.DataFrame:
    """Whole-number float labels as integers: a missing label makes pandas read 3 as 3.0."""
    labels = frame[label_column]
    if not pd.api.types.is_float_dtype(labels) or labels.isna().any():
        return frame
    values = labels.to_numpy()
    if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        return frame
    return frame.assign(**{label_column: values.astype(np.int64)})


def _levels(
    frame: pd.DataFrame, columns: Sequence[str], stored: Mapping[str, Sequence[str]]
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """Each categorical column's levels (the stored ones, else the observed ones) and the problems."""
    levels: dict[str, tuple[str, ...]] = {}
    problems: list[str] = []
    for column in columns:
        if column in stored:
            levels[column] = tuple(str(v) for v in stored[column])
            extra = unknown_levels(frame[column], levels[column])
            if extra:
                problems.append(
                    f"categorical column {column!r} has value(s) outside its levels: {', '.join(extra[:5])}"
                )
            continue
        levels[column] = level_order(frame[column])
        if len(levels[column]) > MAX_LEVELS:
            problems.append(
                f"column {column!r} has {len(levels[column])} distinct text values (more than "
                f"{MAX_LEVELS}): free text or an identifier, not a category; drop or encode it"
            )
    return levels, problems


def _infinite_columns(frame: pd.DataFrame, columns: list[str]) -> list[tuple[str, int]]:
    """(column, count) of numeric columns holding inf: no model can use it, unlike a missing value."""
    found = []
    for column in columns:
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        count = int(np.isinf(values).sum())
        if count:
            found.append((str(column), count))
    return found


def _natural_key(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def split_holdout(table: CohortTable, *, holdout_fraction: float, seed: int) -> np.ndarray:
    """Seeded stratified split; returns the holdout ids (sorted), class proportions preserved."""
    ids = table.frame[table.id_column].astype(str).to_numpy()
    _, holdout = train_test_split(ids, test_size=holdout_fraction, random_state=seed, stratify=table.labels())
    return np.sort(np.asarray(holdout))


def frame_digest(frame: pd.DataFrame) -> tuple[str, bytes]:
    """sha256 and Parquet bytes of a frame: the content hash of a cohort version."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    data = buffer.getvalue()
    return hashlib.sha256(data).hexdigest(), data
