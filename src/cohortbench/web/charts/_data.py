"""Input checks shared by the charts: numbers or gaps, matching lengths, clear errors.

NaN, ±inf and None all become None ("no value"), so every chart draws a gap or an n/a mark
instead of a misleading zero; anything that is not a number raises a ValidationError.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from cohortbench.errors import ValidationError


def number(value: object, where: str) -> float | None:
    """A finite float, or None for None/NaN/inf; raises on text and other non-numbers."""
    if value is None:
        return None
    if isinstance(value, str | bytes):
        raise ValidationError(f"{where}: {value!r} is not a number")
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: {value!r} is not a number") from None
    return result if math.isfinite(result) else None


def numbers(values: Iterable[object], where: str, length: int | None = None) -> list[float | None]:
    """`number` over a sequence, checking its length when one is expected."""
    result = [number(v, f"{where}[{i}]") for i, v in enumerate(values)]
    if length is not None and len(result) != length:
        raise ValidationError(f"{where} has {len(result)} values, expected {length}")
    return result


def interval(value: object, where: str) -> tuple[float, float] | None:
    """A (low, high) pair of finite numbers in order, or None when missing."""
    if value is None:
        return None
    pair = list(value) if isinstance(value, tuple | list) else []
    if len(pair) != 2:
        raise ValidationError(f"{where}: {value!r} is not a (low, high) pair")
    lo, hi = number(pair[0], where), number(pair[1], where)
    if lo is None or hi is None:
        return None
    if lo > hi:
        raise ValidationError(f"{where}: low {lo} is above high {hi}")
    return lo, hi


def table(rows: Sequence[Sequence[object]], where: str, shape: tuple[int, int]) -> list[list[float | None]]:
    """A rows × columns table of numbers or gaps, checked against the expected shape."""
    if len(rows) != shape[0]:
        raise ValidationError(f"{where} has {len(rows)} rows, expected {shape[0]}")
    return [numbers(row, f"{where}[{i}]", shape[1]) for i, row in enumerate(rows)]


def present(values: Iterable[float | None]) -> list[float]:
    """The finite values, gaps left out."""
    return [v for v in values if v is not None]


def as_labels(names: Iterable[object]) -> list[str]:
    """Category or row names as text (user-supplied: escaped later, never trusted)."""
    return ["" if n is None else str(n) for n in names]
