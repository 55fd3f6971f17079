"""One column of a schema twin: its type and coarse per-class range (drawn from in privacy.twin_draw).

A categorical column lists only its public levels (each held by at least `min_cell` records; the
rarer ones merged into OTHER) with per-class shares to 2 decimals; a column with missing values
carries its per-class missing rate to 2 decimals. A class's shares or rate are released only when
none of their counts is a small cell (else the pooled ones stand in), so no small count is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cohortbench.privacy.categories import OTHER, merged, public_levels
from cohortbench.privacy.cells import protect_counts
from cohortbench.privacy.released import is_small_count, round_significant
from cohortbench.privacy.stats import trimmed_quantile

SPAN_SDS = 3.29
"""Width of the 5th..95th percentile range of a normal distribution, in standard deviations."""
NUMERIC_DTYPES = (
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "bool",
)  # fmt: skip
"""The dtypes a twin may name for a numeric column (numpy's; pandas' nullable ones are drawn as default)."""


@dataclass(frozen=True)
class ColumnSchema:
    """A feature's name, kind (float, int, binary, category), group, and per-class (p5, p95) or
    (rate, rate); for a category its public `levels` and per-class `shares` (None: not released);
    `missing`, the per-class rate of missing values (empty when the column has none); `dtype`, the
    numpy dtype of a numeric column as the bundle will see it (empty: the kind's default)."""

    name: str
    kind: str
    group: str
    ranges: dict[str, tuple[float, float]]
    levels: tuple[str, ...] = ()
    shares: dict[str, tuple[float | None, ...]] = field(default_factory=dict)
    missing: dict[str, float] = field(default_factory=dict)
    dtype: str = ""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "group": self.group,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
        }
        if self.kind == "category":
            data["levels"] = list(self.levels)
            data["shares"] = {k: list(v) for k, v in self.shares.items()}
        if self.missing:
            data["missing"] = dict(self.missing)
        if self.dtype:
            data["dtype"] = self.dtype
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSchema:
        ranges = {str(k): (float(v[0]), float(v[1])) for k, v in data["ranges"].items()}
        shares = {
            str(k): tuple(None if x is None else float(x) for x in v)
            for k, v in (data.get("shares") or {}).items()
        }
        missing = {str(k): float(v) for k, v in (data.get("missing") or {}).items()}
        levels = tuple(str(v) for v in data.get("levels") or ())
        dtype = str(data.get("dtype") or "")
        if dtype and dtype not in NUMERIC_DTYPES:
            raise ValueError(
                f"column {data['name']!r} has dtype {dtype!r}, not one of {', '.join(NUMERIC_DTYPES)}"
            )
        return cls(
            str(data["name"]), str(data["kind"]), str(data["group"]), ranges, levels, shares, missing, dtype
        )


def numeric_dtype(dtype: Any) -> str:
    """The name of a plain numpy numeric dtype (what a twin records), else "" (category, nullable...)."""
    return dtype.name if isinstance(dtype, np.dtype) and dtype.name in NUMERIC_DTYPES else ""


def categorical_dtype(dtype: Any) -> bool:
    """Categorical by dtype: pandas category, string or object."""
    return isinstance(dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(dtype)


def is_categorical(column: pd.Series) -> bool:
    return categorical_dtype(column.dtype)


def _kind(column: pd.Series) -> str:
    values = column.dropna().to_numpy()
    # every value 0 or 1: one vectorised pass (a set of np.unique's values was ~5 ms a column)
    if pd.api.types.is_bool_dtype(column) or (len(values) and bool(np.all((values == 0) | (values == 1)))):
        return "binary"
    if pd.api.types.is_integer_dtype(column):
        return "int"
    return "float"


def _coarse_range(x: npt.NDArray[np.float64], kind: str, min_cell: int) -> tuple[float, float] | None:
    """(p5, p95) at 2 significant digits, or (rate, rate) at 1 decimal for binary; None below min_cell."""
    x = np.sort(x[np.isfinite(x)])
    if len(x) < min_cell:
        return None
    if kind == "binary":
        rate = round(float(np.mean(x)), 1)
        return rate, rate
    lo, hi = trimmed_quantile(x, 0.05, min_cell=min_cell), trimmed_quantile(x, 0.95, min_cell=min_cell)
    if lo.value is None or hi.value is None:
        return None
    return round_significant(lo.value, 2), round_significant(hi.value, 2)


def describe_column(
    column: pd.Series, masks: Mapping[str, npt.NDArray[np.bool_]], *, group: str, min_cell: int
) -> ColumnSchema:
    """Per-class coarse ranges or level shares (`masks`: each class's rows), the pooled ones for
    classes below min_cell."""
    missing = _missing_rates(column.isna().to_numpy(), masks, min_cell)
    if is_categorical(column):
        return _describe_category(column, masks, group=group, min_cell=min_cell, missing=missing)
    kind = _kind(column)
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    pooled = _coarse_range(values, kind, min_cell) or (0.0, 0.0)
    ranges = {}
    for c, mask in masks.items():
        ranges[c] = _coarse_range(values[mask], kind, min_cell) or pooled
    return ColumnSchema(
        str(column.name), kind, group, ranges, missing=missing, dtype=numeric_dtype(column.dtype)
    )


def _rate(isna: npt.NDArray[np.bool_], min_cell: int) -> float | None:
    """The missing rate to 2 decimals, None when the missing or the present count is a small cell."""
    n_missing = int(isna.sum())
    if (
        len(isna) == 0
        or is_small_count(n_missing, min_cell)
        or is_small_count(len(isna) - n_missing, min_cell)
    ):
        return None
    rate = round(n_missing / len(isna), 2)
    return min(max(rate, 0.01), 0.99) if 0 < n_missing < len(isna) else rate


def _missing_rates(
    isna: npt.NDArray[np.bool_], masks: Mapping[str, npt.NDArray[np.bool_]], min_cell: int
) -> dict[str, float]:
    """Per class missing rate; the pooled rate for small classes; a nominal 0.01 (or 0.99) when even
    the pooled count is a small cell, so the twin still has missing values where the cohort has."""
    if not isna.any():
        return {}
    pooled = _rate(isna, min_cell)
    if pooled is None:
        pooled = 0.01 if 2 * int(isna.sum()) < len(isna) else 0.99
    return {c: _rate(isna[mask], min_cell) or pooled for c, mask in masks.items()}


def _shares(values: pd.Series, names: Sequence[str], min_cell: int) -> tuple[float | None, ...] | None:
    """Each level's share (2 decimals) among the present values; a small-cell share is None."""
    counts = {lvl: int((values == lvl).sum()) for lvl in names}
    total = sum(counts.values())
    if total < min_cell:
        return None
    table = protect_counts(counts, min_cell=min_cell)
    return tuple(None if not table.cells[lvl].shown else round(counts[lvl] / total, 2) for lvl in names)


def _describe_category(
    column: pd.Series,
    masks: Mapping[str, npt.NDArray[np.bool_]],
    *,
    group: str,
    min_cell: int,
    missing: dict[str, float],
) -> ColumnSchema:
    levels, has_other = public_levels(column, min_cell=min_cell)
    names = (*levels, *((OTHER,) if has_other else ()))
    values = merged(column, levels)
    pooled = _shares(values, names, min_cell) or tuple(None for _ in names)
    shares = {}
    for c, mask in masks.items():
        own = _shares(values[mask], names, min_cell)
        shares[c] = own if own is not None and None not in own else pooled
    return ColumnSchema(str(column.name), "category", group, {}, names, shares, missing)
