"""Exact (Clopper-Pearson) intervals for the scores that are proportions of patients.

A bootstrap of a proportion collapses where a reviewer needs it most: a recall of 30/30 resamples
to 30/30 every time and shows [1.00-1.00], and a class of a handful of cases gives a handful of
distinct values. Accuracy, recall, precision and sensitivity are k successes out of n patients, so
their interval is the exact binomial one (scipy.stats.binomtest(...).proportion_ci, "exact"):
conservative, defined at 0 % and 100 %, and what regulatory reporting quotes. The bootstrap
intervals stay in Estimate.percentile / .bca for comparison; `method` says which one low/high are.
"""

from __future__ import annotations

from dataclasses import replace

from scipy.stats import binomtest

from cohortbench.scoring.result import Estimate, Interval


def exact_interval(k: int, n: int, confidence: float) -> Interval | None:
    """Clopper-Pearson interval of k successes in n trials; None when n is 0."""
    if n <= 0:
        return None
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="exact")
    return Interval(float(ci.low), float(ci.high))


def with_exact(estimate: Estimate, k: int, n: int, confidence: float) -> Estimate:
    """The estimate with its low/high replaced by the exact interval of k/n (method "exact")."""
    interval = exact_interval(k, n, confidence)
    if interval is None or estimate.value is None:
        return estimate
    return replace(estimate, low=interval.low, high=interval.high, method="exact")
