"""Stratified bootstrap as weight matrices: row b holds how often each holdout row is drawn.

Resampling within each true class keeps the class mix of the holdout fixed (a rare critical
class never vanishes from a resample). Weights rather than index arrays let every metric of a
resample be a matrix product or a cumulative sum, so 2,000 resamples cost a few BLAS calls, and
chunking bounds memory on 100,000-row holdouts.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cohortbench.scoring.validation import FloatArray, IntArray

CHUNK_CELLS = 4_000_000
"""Bootstrap weights held at once (resamples x rows); ~32 MB of float64 per chunk."""


def chunk_size(n: int, n_resamples: int) -> int:
    """Resamples per chunk for n rows: as many as fit in CHUNK_CELLS, at least one."""
    return max(1, min(n_resamples, CHUNK_CELLS // max(n, 1)))


def stratified_weights(strata: IntArray, n_resamples: int, rng: np.random.Generator) -> Iterator[FloatArray]:
    """Yield (b, n) draw counts, chunk by chunk; each stratum keeps its size in every resample."""
    n = strata.size
    members = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    step = chunk_size(n, n_resamples)
    for start in range(0, n_resamples, step):
        b = min(step, n_resamples - start)
        weights = np.empty((b, n), dtype=np.float64)
        offsets = np.arange(b)[:, None]
        for rows in members:
            m = rows.size
            draws = rng.integers(0, m, size=(b, m)) + offsets * m
            weights[:, rows] = np.bincount(draws.ravel(), minlength=b * m).reshape(b, m)
        yield weights
