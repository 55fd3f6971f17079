"""Input checks for the scorer: every bad input is rejected by name, nothing is silently repaired.

Scores end up in regulatory files, so a probability matrix that does not sum to one, or a label
the workspace does not know, is an error of the submission, not something to normalise away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cohortbench.errors import ValidationError

ROW_SUM_ATOL = 1e-6
"""Absolute tolerance on each row of probabilities summing to 1 (float32 models reach ~1e-7)."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Inputs:
    """Validated scorer inputs: labels as class indices, probabilities as float64 (n, k)."""

    y: IntArray
    proba: FloatArray
    classes: tuple[str, ...]
    critical: int


def _preview(values: Sequence[object] | npt.NDArray[np.generic], limit: int = 5) -> str:
    items = list(values)
    shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in items[:limit])
    return shown + (", ..." if len(items) > limit else "")


def validate_classes(classes: Sequence[str], critical_class: str) -> tuple[tuple[str, ...], int]:
    """Check the class list (at least two distinct names) and find the critical class in it."""
    names = tuple(str(c) for c in classes)
    if len(names) < 2:
        raise ValidationError(f"classes needs at least 2 names, got {len(names)}")
    if len(set(names)) != len(names):
        dupes = sorted({c for c in names if names.count(c) > 1})
        raise ValidationError(f"classes has duplicate names: {_preview(dupes)}")
    if critical_class not in names:
        raise ValidationError(f"critical_class {critical_class!r} is not one of classes {list(names)}")
    return names, names.index(critical_class)


def validate_labels(y_true: npt.ArrayLike, classes: tuple[str, ...]) -> IntArray:
    """Map labels to class indices; accepts indices 0..k-1 or the class names themselves."""
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise ValidationError(f"y_true must be one-dimensional, got shape {y.shape}")
    if y.size == 0:
        raise ValidationError("y_true is empty: nothing to score")
    if y.dtype.kind in "US" or y.dtype == object:
        lookup = {name: i for i, name in enumerate(classes)}
        unknown = sorted({str(v) for v in y.tolist() if not isinstance(v, str) or v not in lookup})
        if unknown:
            raise ValidationError(f"y_true has labels not in classes {list(classes)}: {_preview(unknown)}")
        return np.fromiter((lookup[v] for v in y.tolist()), dtype=np.int64, count=y.size)
    if y.dtype.kind == "b" or y.dtype.kind not in "iuf":
        raise ValidationError(f"y_true must hold class indices or class names, got dtype {y.dtype}")
    bad_mask = ~np.isfinite(y) | (y != np.round(y)) | (y < 0) | (y >= len(classes))
    if bad_mask.any():
        bad = sorted({float(v) if y.dtype.kind == "f" else int(v) for v in y[bad_mask].tolist()})
        raise ValidationError(
            f"y_true has labels outside 0..{len(classes) - 1} ({list(classes)}): {_preview(bad)}"
        )
    return y.astype(np.int64)


def validate_proba(proba: npt.ArrayLike, n: int, k: int, *, what: str = "proba") -> FloatArray:
    """Check shape, finiteness, range and row sums of a probability matrix; return it as float64."""
    try:
        p = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{what} is not a numeric matrix: {exc}") from exc
    if p.shape != (n, k):
        raise ValidationError(f"{what} has shape {p.shape}, expected ({n}, {k}) (rows of y_true, classes)")
    rows = np.flatnonzero(~np.isfinite(p).all(axis=1))
    if rows.size:
        raise ValidationError(
            f"{what} has NaN or infinite values in {rows.size} rows, e.g. rows {_preview(rows)}"
        )
    rows = np.flatnonzero((p < 0).any(axis=1) | (p > 1).any(axis=1))
    if rows.size:
        raise ValidationError(
            f"{what} has values outside [0, 1] in {rows.size} rows, e.g. rows {_preview(rows)}"
        )
    sums = p.sum(axis=1)
    rows = np.flatnonzero(np.abs(sums - 1.0) > ROW_SUM_ATOL)
    if rows.size:
        worst = float(sums[rows[np.argmax(np.abs(sums[rows] - 1.0))]])
        raise ValidationError(
            f"{what} rows must sum to 1 within {ROW_SUM_ATOL:g}: {rows.size} rows do not "
            f"(e.g. rows {_preview(rows)}; worst sum {worst!r})"
        )
    return p


def validate_inputs(
    y_true: npt.ArrayLike, proba: npt.ArrayLike, classes: Sequence[str], critical_class: str
) -> Inputs:
    """Validate everything score() and compare() take, in one place."""
    names, critical = validate_classes(classes, critical_class)
    y = validate_labels(y_true, names)
    p = validate_proba(proba, y.size, len(names))
    return Inputs(y=y, proba=p, classes=names, critical=critical)
