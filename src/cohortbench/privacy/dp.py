"""Differentially private counts, histograms and means, built with OpenDP and charged to a ledger.

Neighbouring cohorts differ by one added or removed patient (symmetric distance 1). Each
measurement is built first, its epsilon read from OpenDP's privacy map, charged to the ledger
(which refuses an overspend), and only then run. Clamping bounds are public ranges supplied
by the owner, never computed from the data: data-derived bounds would leak the extremes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import opendp.prelude as dp

from cohortbench.errors import ValidationError
from cohortbench.privacy.histogram import Histogram
from cohortbench.privacy.ledger import PrivacyLedger
from cohortbench.privacy.released import LAPLACE, Released

dp.enable_features("contrib")


@dataclass
class DpSession:
    """What release_eda needs to go private: the ledger, the cost of each query and public bounds."""

    ledger: PrivacyLedger
    epsilon_per_query: float = 0.1
    public_bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    n_bins: int = 10


def _calibrate(make: Callable[[float], Any], sensitivity: float, epsilon: float) -> tuple[Any, float]:
    """A measurement whose OpenDP privacy map is at most `epsilon`, and its scale.

    `sensitivity` is only the first guess: OpenDP's own map is the authority (its float sum,
    for instance, accounts for the full clamping width and for rounding error).
    """
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValidationError(f"epsilon must be a positive number, got {epsilon}")
    scale = sensitivity / epsilon
    for _ in range(20):
        measurement = make(scale)
        spent = float(measurement.map(1))
        if spent <= epsilon:
            return measurement, scale
        scale *= spent / epsilon * (1 + 1e-9)
    raise ValidationError(f"could not calibrate a measurement to epsilon={epsilon}")


def _run(measurement: Any, data: Any, ledger: PrivacyLedger, query: str) -> Any:
    """Charge first (refusal leaves nothing computed), then release."""
    ledger.charge(query, float(measurement.map(1)))
    return measurement(data)


def noisy_counts(
    labels: Sequence[str], categories: Sequence[str], *, epsilon: float, ledger: PrivacyLedger, query: str
) -> dict[str, Released]:
    """Laplace-noised count of each category (one patient changes one count by 1)."""
    space = dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance()

    def make(scale: float) -> Any:
        cats = list(categories)
        return (
            space
            >> dp.t.then_count_by_categories(categories=cats, null_category=False)
            >> dp.m.then_laplace(scale=scale)
        )

    measurement, scale = _calibrate(make, 1.0, epsilon)
    noisy = _run(measurement, [str(v) for v in labels], ledger, query)
    return {c: Released(max(int(v), 0), LAPLACE, scale) for c, v in zip(categories, noisy, strict=True)}


def noisy_histogram(
    values: Sequence[float], edges: list[float], *, epsilon: float, ledger: PrivacyLedger, query: str
) -> Histogram:
    """Laplace-noised counts over public bin edges (an owner-set range, not the data's)."""
    x = np.asarray(values, dtype=np.float64)
    idx = np.searchsorted(np.asarray(edges[1:-1]), x[np.isfinite(x)], side="right")
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.symmetric_distance()
    bins = list(range(len(edges) - 1))

    def make(scale: float) -> Any:
        count = dp.t.then_count_by_categories(categories=bins, null_category=False)
        return space >> count >> dp.m.then_laplace(scale=scale)

    measurement, scale = _calibrate(make, 1.0, epsilon)
    noisy = _run(measurement, [int(i) for i in idx], ledger, query)
    return Histogram(list(edges), [max(int(v), 0) for v in noisy], LAPLACE, scale)


def noisy_group_means(
    values: Sequence[float],
    groups: Sequence[str],
    categories: Sequence[str],
    *,
    bounds: tuple[float, float],
    epsilon: float,
    ledger: PrivacyLedger,
    query: str,
) -> dict[str, Released]:
    """Per-group means from a noisy clamped sum and a noisy count, each at epsilon/2.

    The groups partition the records, so by parallel composition the whole call costs epsilon.
    The stated noise scale is that of the sum divided by the noisy count.
    """
    lo, hi = bounds
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValidationError(f"public bounds must be finite with lo < hi, got {bounds}")
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()

    def make_sum(scale: float) -> Any:
        summed = space >> dp.t.then_clamp((lo, hi)) >> dp.t.then_sum()  # type: ignore[no-untyped-call]
        return summed >> dp.m.then_laplace(scale=scale)

    def make_count(scale: float) -> Any:
        return space >> dp.t.then_count() >> dp.m.then_laplace(scale=scale)

    sum_m, sum_scale = _calibrate(make_sum, max(abs(lo), abs(hi)), epsilon / 2)
    count_m, _ = _calibrate(make_count, 1.0, epsilon / 2)
    cost = float(sum_m.map(1)) + float(count_m.map(1))
    ledger.charge(query, cost)
    return {c: _group_mean(values, groups, c, sum_m, count_m, sum_scale, bounds) for c in categories}


def _group_mean(
    values: Sequence[float],
    groups: Sequence[str],
    category: str,
    sum_m: Any,
    count_m: Any,
    sum_scale: float,
    bounds: tuple[float, float],
) -> Released:
    x = [float(v) for v, g in zip(values, groups, strict=True) if g == category and math.isfinite(v)]
    total, count = float(sum_m(x)), max(int(count_m(x)), 1)
    mean = min(max(total / count, bounds[0]), bounds[1])
    return Released(mean, LAPLACE, sum_scale / count)
