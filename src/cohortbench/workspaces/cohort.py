"""Turning an owner's table into a cohort version: validation that names the problem, and the split."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from cohortbench.errors import ValidationError

MIN_PER_CLASS = 2


@dataclass(frozen=True)
class CohortTable:
    """A validated cohort: the frame, its columns' roles and the class order."""

    frame: pd.DataFrame
    id_column: str
    label_column: str
    classes: tuple[str, ...]

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
) -> CohortTable:
    """Check an owner's table and name every problem (never fix anything silently).

    Problems: missing id/label column, missing values (records without a label counted apart),
    duplicate ids, non-numeric features, infinite feature values, fewer than 2 classes, a class too
    small to split into train and holdout.
    """
    for column, role in ((id_column, "id"), (label_column, "label")):
        if column not in frame.columns:
            raise ValidationError(
                f"{role} column {column!r} not found; columns are: {', '.join(frame.columns[:10])}"
            )
    problems: list[str] = []
    missing = [c for c in frame.columns[frame.isna().any()] if c != label_column]
    if missing:
        problems.append(f"missing values in {len(missing)} column(s): {', '.join(map(str, missing[:5]))}")
    unlabelled = int(frame[label_column].isna().sum())
    if unlabelled:
        problems.append(f"{unlabelled} record(s) without a label in column {label_column!r}")
    dup = int(frame[id_column].duplicated().sum())
    if dup:
        problems.append(f"{dup} duplicate id(s) in column {id_column!r}")
    features = [c for c in frame.columns if c not in (id_column, label_column)]
    if not features:
        problems.append("no feature columns")
    non_numeric = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        problems.append(
            f"non-numeric feature column(s) without an encoding: {', '.join(map(str, non_numeric[:5]))}"
        )
    infinite = _infinite_columns(frame, [c for c in features if c not in non_numeric])
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
    return CohortTable(frame.reset_index(drop=True), id_column, label_column, tuple(order))


def _infinite_columns(frame: pd.DataFrame, columns: list[str]) -> list[tuple[str, int]]:
    """(column, count) of numeric columns holding inf: refused like NaN, a model cannot use either."""
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
