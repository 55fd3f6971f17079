"""Compute and energy accounting: petaFLOP, kWh and gCO2e from measured CPU/GPU time.

The device powers are typical board/package powers, not measurements of this machine; the
grid intensity is set per deployment (default: a European average).
"""

from __future__ import annotations

from dataclasses import dataclass

CPU_WATTS_PER_CORE = 10.0
GPU_WATTS = 350.0
DEFAULT_GRID_G_PER_KWH = 250.0
PFLOP = 1e15


@dataclass(frozen=True)
class Energy:
    kwh: float
    g_co2e: float


def estimate_energy(
    *, cpu_seconds: float, gpu_seconds: float = 0.0, grid_g_per_kwh: float = DEFAULT_GRID_G_PER_KWH
) -> Energy:
    """Energy of a run from its measured CPU and GPU seconds and the grid's carbon intensity."""
    joules = cpu_seconds * CPU_WATTS_PER_CORE + gpu_seconds * GPU_WATTS
    kwh = joules / 3.6e6
    return Energy(kwh=kwh, g_co2e=kwh * grid_g_per_kwh)


def to_pflop(flop: float) -> float:
    return flop / PFLOP
