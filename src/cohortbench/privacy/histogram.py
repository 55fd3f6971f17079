"""Histograms whose every bin holds 0 or at least `min_cell` records.

Bin edges never come from the minimum or maximum (single patients' values): the inner edges
span the trimmed, rounded 5th..95th percentiles and the two outer bins are open-ended. Adjacent
bins are then merged left to right until each holds at least `min_cell` records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cohortbench.privacy.released import MERGED, MIN_CELL, SUPPRESSED, json_number, round_significant
from cohortbench.privacy.stats import trimmed_quantile


@dataclass(frozen=True)
class Histogram:
    """Bins [edges[i], edges[i+1]) with their counts; empty `counts` means suppressed."""

    edges: list[float]
    counts: list[int]
    protection: str
    noise_scale: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "edges": [json_number(e) for e in self.edges],
            "counts": list(self.counts),
            "protection": self.protection,
            "noise_scale": self.noise_scale,
        }


def public_edges(lo: float, hi: float, n_bins: int) -> list[float]:
    """Inner edges from lo to hi rounded to 3 significant digits, with open outer bins."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [-math.inf, math.inf]
    inner = sorted({round_significant(float(e), 3) for e in np.linspace(lo, hi, n_bins + 1)})
    return [-math.inf, *inner, math.inf]


def merge_small_bins(edges: list[float], counts: list[int], *, min_cell: int = MIN_CELL) -> Histogram:
    """Merge adjacent bins until none holds 1..min_cell-1 records (zero total means suppressed)."""
    out_edges, out_counts, running = [edges[0]], [], 0
    for right, count in zip(edges[1:], counts, strict=True):
        running += count
        if running >= min_cell:
            out_edges.append(right)
            out_counts.append(running)
            running = 0
    if not out_counts:
        return Histogram([], [], SUPPRESSED)
    if running:
        out_counts[-1] += running
    out_edges[-1] = edges[-1]
    return Histogram(out_edges, out_counts, MERGED)


def protected_histogram(values: npt.ArrayLike, *, n_bins: int = 10, min_cell: int = MIN_CELL) -> Histogram:
    """Histogram of the finite values with trimmed-percentile edges and small bins merged away."""
    x = np.asarray(values, dtype=np.float64)
    x = np.sort(x[np.isfinite(x)])
    if len(x) < min_cell:
        return Histogram([], [], SUPPRESSED)
    lo, hi = trimmed_quantile(x, 0.05, min_cell=min_cell), trimmed_quantile(x, 0.95, min_cell=min_cell)
    if lo.value is None or hi.value is None:
        return Histogram([], [], SUPPRESSED)
    edges = public_edges(lo.value, hi.value, n_bins)
    counts = bin_counts(x, edges)
    return merge_small_bins(edges, counts, min_cell=min_cell)


def bin_counts(x: npt.NDArray[np.float64], edges: list[float]) -> list[int]:
    """Counts in [edges[i], edges[i+1]); the last bin is closed at +inf."""
    idx = np.searchsorted(np.asarray(edges[1:-1]), x, side="right")
    return [int(c) for c in np.bincount(idx, minlength=len(edges) - 1)]
