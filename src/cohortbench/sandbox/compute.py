"""Compute accounting in FLOP: counted for torch, otherwise estimated from measured time.

The estimate is device time × a nominal peak rate, an upper bound of what could have been computed
(the same convention as cloud "compute used" dashboards): CPU_PEAK_FLOP_PER_CORE_S per CPU-second
(50 GFLOP/s: one modern x86 core with AVX2 FMA on float32) and GPU_PEAK_FLOP_PER_S per GPU-second
(60 TFLOP/s: an H100-class GPU on float32/TF32 without sparsity).
"""

from __future__ import annotations

CPU_PEAK_FLOP_PER_CORE_S = 50e9
GPU_PEAK_FLOP_PER_S = 60e12
#: CPU seconds any run needs (interpreter start, imports): a smaller remaining budget is refused
MIN_CPU_SECONDS = 2.0


def estimate_flop(cpu_seconds: float, gpu_seconds: float = 0.0) -> float:
    """Nominal FLOP of `cpu_seconds` CPU time and `gpu_seconds` GPU time."""
    return cpu_seconds * CPU_PEAK_FLOP_PER_CORE_S + gpu_seconds * GPU_PEAK_FLOP_PER_S


def cpu_seconds_for(budget_flop: float) -> float:
    """CPU time that `budget_flop` buys at the nominal CPU rate (the run's CPU cap)."""
    return budget_flop / CPU_PEAK_FLOP_PER_CORE_S


def fits_budget(budget_flop: float | None) -> bool:
    """Whether a run may start at all: no budget (None), or enough for MIN_CPU_SECONDS."""
    return budget_flop is None or budget_flop >= estimate_flop(MIN_CPU_SECONDS)
