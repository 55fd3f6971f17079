"""Categorical feature columns: which columns are categories, their fixed level order, and the cast.

A workspace stores each categorical column's level list once (at creation); every frame the trusted
side hands on (to the sandbox, the EDA, the twin) carries those columns as a pandas `category`
dtype with exactly that list in that order, so a category's code means the same in train and
holdout, in both phases and in every cohort version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cohortbench.errors import ValidationError

MAX_LEVELS = 1000
"""More distinct values than this in a text column is free text or an identifier, not a category."""


def _text_dtype(dtype: Any) -> bool:
    """A dtype pandas uses for category, string or object columns: categorical by its dtype."""
    return isinstance(dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype)
    )


def categorical_columns(frame: pd.DataFrame, features: Sequence[str], declared: Sequence[str]) -> list[str]:
    """The owner's declared columns plus every text column, in the frame's column order."""
    unknown = [c for c in declared if c not in features]
    if unknown:
        raise ValidationError(
            f"--categorical names column(s) that are not features: {', '.join(map(str, unknown[:5]))}"
        )
    chosen = set(declared)
    dtypes = dict(zip(frame.columns, frame.dtypes, strict=True))
    return [c for c in features if c in chosen or _text_dtype(dtypes[c])]


def _text(value: object) -> str:
    """A level's name: integral floats as integers (1.0 from a CSV is the level "1")."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _natural(level: str) -> tuple[int, float | str]:
    try:
        return (0, float(level))
    except ValueError:
        return (1, level)


def as_text(column: pd.Series) -> pd.Series:
    """The column's values as level names; missing values stay missing (NaN)."""
    values = column.astype(object)
    mask = values.notna().to_numpy()
    out = pd.Series(np.full(len(values), np.nan, dtype=object), index=column.index, name=column.name)
    out[mask] = [_text(v) for v in values[mask]]
    return out


def level_order(column: pd.Series) -> tuple[str, ...]:
    """The observed levels of a column, numbers first in numeric order, then text in sorted order."""
    return tuple(sorted(as_text(column).dropna().unique(), key=_natural))


def to_category(column: pd.Series, levels: Sequence[str]) -> pd.Series:
    """The column as a `category` with exactly `levels` (values outside them would become NaN)."""
    return as_text(column).astype(pd.CategoricalDtype(list(levels), ordered=False))


def unknown_levels(column: pd.Series, levels: Sequence[str]) -> list[str]:
    """Values of the column that are not among `levels` (for a clear error to the owner)."""
    seen = set(as_text(column).dropna().unique())
    return sorted(seen - set(levels), key=_natural)


def apply_categories(frame: pd.DataFrame, categories: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """A copy of `frame` whose categorical columns carry the workspace's fixed level lists."""
    present = {c: v for c, v in categories.items() if c in frame.columns}
    if not present:
        return frame
    out = frame.copy()
    for column, levels in present.items():
        out[column] = to_category(frame[column], levels)
    return out
