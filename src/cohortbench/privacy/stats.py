"""Per-group summary statistics that never rest on fewer than `min_cell` records or on one patient.

Exact minima and maxima are single patients' values, so they are never released. Percentiles
are trimmed (never one of the `TAIL` most extreme records on their side) and rounded to a few
significant digits toward the centre; a value that still lands on a group extreme held by fewer
than `min_cell` records is suppressed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cohortbench.privacy.released import (
    MIN_CELL,
    ROUNDED,
    TRIMMED_QUANTILE,
    Released,
    round_significant,
    suppressed,
)

TAIL = 3
"""Records that must lie beyond a released percentile on its outer side."""
DIGITS = 3
"""Significant digits of released means, standard deviations and percentiles."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GroupSummary:
    """n, mean, sd, p5 and p95 of one feature in one group (n may be suppressed on its own)."""

    n: Released
    mean: Released
    sd: Released
    p5: Released
    p95: Released

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k).to_dict() for k in ("n", "mean", "sd", "p5", "p95")}

    def values(self) -> list[float]:
        """Every shown statistic (not n): what an attacker gets to work with."""
        items = (self.mean, self.sd, self.p5, self.p95)
        return [float(r.value) for r in items if r.value is not None]


def _round_toward(value: float, centre: float, digits: int) -> float:
    """Round to `digits` significant digits, moving toward the centre rather than outward."""
    if value == 0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)
    rounded = math.floor(value / step) * step if value > centre else math.ceil(value / step) * step
    return round_significant(rounded, digits + 1)


def _held_by_few(value: float, x: FloatArray, min_cell: int) -> bool:
    """True when `value` is the group's min or max and fewer than min_cell records share it."""
    return any(value == extreme and int(np.sum(x == extreme)) < min_cell for extreme in (x[0], x[-1]))


def sorted_median(sorted_x: FloatArray) -> float:
    """np.median of an ascending array, read off the middle (np.median would partition it again:
    a third of the EDA's time at 20,000 features)."""
    n = len(sorted_x)
    mid = n // 2
    if n % 2:
        return float(sorted_x[mid])
    return float((sorted_x[mid - 1] + sorted_x[mid]) / 2.0)


def trimmed_quantile(sorted_x: FloatArray, q: float, *, min_cell: int = MIN_CELL) -> Released:
    """The q-quantile as a protected order statistic of an ascending array of at least min_cell values."""
    n = len(sorted_x)
    if n < min_cell:
        return suppressed()
    index = min(max(round(q * (n - 1)), TAIL), n - 1 - TAIL)
    centre = sorted_median(sorted_x)
    value = _round_toward(float(sorted_x[index]), centre, DIGITS)
    if _held_by_few(value, sorted_x, min_cell):
        return suppressed()
    return Released(value, TRIMMED_QUANTILE)


def _rounded_stat(value: float, sorted_x: FloatArray, min_cell: int) -> Released:
    if not math.isfinite(value):
        return suppressed()
    out = round_significant(value, DIGITS)
    return suppressed() if _held_by_few(out, sorted_x, min_cell) else Released(out, ROUNDED)


def summarize(values: npt.ArrayLike, *, n_released: bool = True, min_cell: int = MIN_CELL) -> GroupSummary:
    """Summary of the finite values of one group; everything suppressed below min_cell records."""
    x = np.asarray(values, dtype=np.float64)
    x = np.sort(x[np.isfinite(x)])
    n = len(x)
    if n < min_cell:
        s = suppressed()
        return GroupSummary(s, s, s, s, s)
    n_out = Released(n, "exact") if n_released else suppressed("suppressed_complement")
    return GroupSummary(
        n=n_out,
        mean=_rounded_stat(float(np.mean(x)), x, min_cell),
        sd=_rounded_stat(float(np.std(x, ddof=1)), x, min_cell),
        p5=trimmed_quantile(x, 0.05, min_cell=min_cell),
        p95=trimmed_quantile(x, 0.95, min_cell=min_cell),
    )
