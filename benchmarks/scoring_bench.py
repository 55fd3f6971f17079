"""Benchmark of cohortbench.scoring.score(): all metrics with 2,000-resample intervals.

Run: .venv/bin/python benchmarks/scoring_bench.py  (a script, not a test; numbers go to docs/performance.md).
Cases: the DILI holdout shape (320 rows x 4 classes) and a 100,000-row holdout. Reports the best
wall time of a few runs and the peak traced Python/numpy memory (tracemalloc), plus the process's
peak resident set size (getrusage).
"""

from __future__ import annotations

import resource
import time
import tracemalloc

import numpy as np

from cohortbench.scoring import PermutedPrediction, score

CLASSES = ("none", "mild", "moderate", "severe")


def holdout(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """DILI-like class mix and an informative, imperfect model."""
    rng = np.random.default_rng(seed)
    y = rng.choice(4, size=n, p=[0.903, 0.012, 0.038, 0.047])
    logits = rng.normal(size=(n, 4))
    logits[np.arange(n), y] += 2.0
    proba = np.exp(logits)
    return y, proba / proba.sum(axis=1, keepdims=True)


def run(n: int, repeats: int) -> tuple[float, float]:
    """Best wall seconds over `repeats`, and peak traced MB of one run."""
    y, proba = holdout(n)
    rng = np.random.default_rng(1)
    permuted = [PermutedPrediction("group", "liver panel", r, proba[rng.permutation(n)]) for r in range(5)]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        score(y, proba, classes=CLASSES, critical_class="severe", n_resamples=2000, permuted=permuted)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    score(y, proba, classes=CLASSES, critical_class="severe", n_resamples=2000, permuted=permuted)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return best, peak


def main() -> None:
    for n, repeats, target in ((320, 5, 0.5), (100_000, 2, 10.0)):
        seconds, peak = run(n, repeats)
        verdict = "ok" if seconds < target else "SLOW"
        print(
            f"n={n:>7} k=4 B=2000: {seconds:.3f} s (target < {target} s, {verdict}); peak traced {peak:.0f} MB"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {rss:.0f} MB")


if __name__ == "__main__":
    main()
