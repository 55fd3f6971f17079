"""The unit of release: a number together with how it was protected.

Every number that leaves a workspace travels with its protection so a reader (and an audit)
can tell an exact count from a suppressed, merged, rounded or noisy one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MIN_CELL = 11
"""Smallest count that may be shown, and the smallest group a statistic may be computed over (CMS rule)."""

EXACT = "exact"
SUPPRESSED = "suppressed"
SUPPRESSED_COMPLEMENT = "suppressed_complement"
MERGED = "merged"
ROUNDED = "rounded"
TRIMMED_QUANTILE = "trimmed_quantile"
LAPLACE = "laplace"
WITHHELD = "withheld"


@dataclass(frozen=True)
class Released:
    """One released number: `value` is None when it was suppressed or withheld."""

    value: float | None
    protection: str
    noise_scale: float | None = None

    @property
    def shown(self) -> bool:
        return self.value is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": json_number(self.value),
            "protection": self.protection,
            "noise_scale": self.noise_scale,
        }


def suppressed(protection: str = SUPPRESSED) -> Released:
    """A number that is not shown."""
    return Released(None, protection)


def json_number(value: float | None) -> float | None:
    """JSON has no infinities or NaN: they travel as None."""
    if value is None or not math.isfinite(value):
        return None
    return value


def round_significant(value: float, digits: int = 3) -> float:
    """Round to `digits` significant digits: coarse enough that a released value is not a record's value."""
    if value == 0 or not math.isfinite(value):
        return value
    magnitude = math.floor(math.log10(abs(value)))
    return round(value, digits - 1 - magnitude)


def is_small_count(count: float | None, min_cell: int = MIN_CELL) -> bool:
    """True for a count in 1..min_cell-1, the counts that may never be shown."""
    return count is not None and 0 < count < min_cell
