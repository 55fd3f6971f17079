"""Coarsening of the numbers a contributor's code controls (invariant 4).

Reported losses, wall time, memory and exit status are chosen by the contributor's code, so a
hostile model can write a patient's values into them. They leave the workspace only with few
points, few significant digits, a bounded exponent range, or as coarse buckets; this caps
the channel at a few bits per released number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cohortbench.errors import ValidationError
from cohortbench.privacy.released import round_significant

LOSS_FLOOR = 1e-3
"""Magnitudes below this are released as 0: the exponent is a channel too."""
LOSS_CEILING = 1e3
"""Magnitudes above this are released as the ceiling."""

WALL_TIME_BUCKETS_S = (60.0, 300.0, 900.0, 3600.0, 4 * 3600.0)
MEMORY_BUCKETS_GIB = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


def _coarse_value(value: float, digits: int) -> float:
    magnitude = min(abs(value), LOSS_CEILING)
    if magnitude < LOSS_FLOOR:
        return 0.0
    return math.copysign(round_significant(magnitude, digits), value)


def coarsen_losses(losses: Sequence[float], *, max_points: int = 20, digits: int = 2) -> list[float]:
    """At most max_points evenly spaced losses (the last one kept), each with `digits` significant digits.

    Non-finite values (a diverged run) are released as the ceiling.
    """
    if max_points < 1 or not 1 <= digits <= 3:
        raise ValidationError("max_points must be >= 1 and digits within 1..3")
    values = [float(v) if math.isfinite(float(v)) else LOSS_CEILING for v in losses]
    if len(values) > max_points:
        step = (len(values) - 1) / (max_points - 1) if max_points > 1 else 0.0
        picks = sorted({round(i * step) for i in range(max_points)} | {len(values) - 1})
        values = [values[i] for i in picks][-max_points:]
    return [_coarse_value(v, digits) for v in values]


def _bucket(value: float, bounds: Sequence[float], unit: str) -> str:
    lower = 0.0
    for upper in bounds:
        if value < upper:
            return f"{lower:g}-{upper:g} {unit}"
        lower = upper
    return f">={lower:g} {unit}"


@dataclass(frozen=True)
class ResourceBuckets:
    """Coarse resource use of a run as the contributor sees it."""

    wall_time: str
    memory: str
    outcome: str

    def to_dict(self) -> dict[str, Any]:
        return {"wall_time": self.wall_time, "memory": self.memory, "outcome": self.outcome}


def coarsen_resources(
    *, wall_time_s: float, peak_memory_bytes: int, exit_status: int | None = 0, killed: bool = False
) -> ResourceBuckets:
    """Bucket wall time and memory; reduce the exit status to ok / error / killed."""
    if not (math.isfinite(wall_time_s) and wall_time_s >= 0) or peak_memory_bytes < 0:
        raise ValidationError("wall time and memory must be non-negative numbers")
    outcome = "killed" if killed or exit_status is None else "ok" if exit_status == 0 else "error"
    return ResourceBuckets(
        wall_time=_bucket(wall_time_s, WALL_TIME_BUCKETS_S, "s"),
        memory=_bucket(peak_memory_bytes / 2**30, MEMORY_BUCKETS_GIB, "GiB"),
        outcome=outcome,
    )
