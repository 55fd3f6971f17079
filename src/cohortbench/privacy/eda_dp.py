"""The differentially private parts of release_eda.

Queries: one noisy count table for the classes, and for each feature with an owner-set public
range one per-class mean (parallel composition over the classes) and one histogram over bins
spanning that public range. Suppression and bin merging are applied to the noisy numbers
afterwards, which is post-processing and costs no budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cohortbench.privacy.cells import CountTable, protect_counts
from cohortbench.privacy.dp import DpSession, noisy_counts, noisy_group_means, noisy_histogram
from cohortbench.privacy.histogram import Histogram, merge_small_bins, public_edges
from cohortbench.privacy.released import WITHHELD, Released, suppressed
from cohortbench.privacy.stats import GroupSummary

LAPLACE_MERGED = "laplace+merged"


def dp_query_count(bounded_features: Sequence[str]) -> int:
    """How many charged queries a DP EDA release makes."""
    return 1 + 2 * len(bounded_features)


def dp_class_table(labels: pd.Series, classes: Sequence[str], dp: DpSession, min_cell: int) -> CountTable:
    """Noisy class counts, then small-cell suppression on the noisy values."""
    noisy = noisy_counts(
        list(labels), classes, epsilon=dp.epsilon_per_query, ledger=dp.ledger, query="eda: class counts"
    )
    table = protect_counts({c: int(r.value or 0) for c, r in noisy.items()}, min_cell=min_cell)
    scale = next(iter(noisy.values())).noise_scale if noisy else None
    cells = {c: noisy[c] if r.shown else r for c, r in table.cells.items()}
    total = table.total
    if total.shown and scale is not None:
        total = Released(total.value, "laplace_sum", scale * math.sqrt(len(cells)))
    return CountTable(cells, total)


def dp_summaries(
    frame: pd.DataFrame,
    labels: pd.Series,
    classes: CountTable,
    features: Sequence[str],
    dp: DpSession,
    min_cell: int,
) -> dict[str, dict[str, GroupSummary]]:
    """Noisy per-class means of bounded features; sd, percentiles and n are withheld."""
    w = suppressed(WITHHELD)
    out: dict[str, dict[str, GroupSummary]] = {}
    for f in features:
        means: dict[str, Released] = {}
        if f in dp.public_bounds:
            means = noisy_group_means(
                frame[f].to_numpy(dtype=np.float64).tolist(),
                list(labels),
                list(classes.cells),
                bounds=dp.public_bounds[f],
                epsilon=dp.epsilon_per_query,
                ledger=dp.ledger,
                query=f"eda: mean of {f} by class",
            )
        out[f] = {
            c: GroupSummary(w, means[c] if f in dp.public_bounds and classes.cells[c].shown else w, w, w, w)
            for c in classes.cells
        }
    return out


def dp_histograms(
    frame: pd.DataFrame, features: Sequence[str], dp: DpSession, min_cell: int
) -> dict[str, Histogram]:
    """Noisy histograms over public-range bins, small noisy bins merged away afterwards."""
    out = {}
    for f in features:
        if f not in dp.public_bounds:
            out[f] = Histogram([], [], WITHHELD)
            continue
        lo, hi = dp.public_bounds[f]
        noisy = noisy_histogram(
            frame[f].to_numpy(dtype=np.float64).tolist(),
            public_edges(lo, hi, dp.n_bins),
            epsilon=dp.epsilon_per_query,
            ledger=dp.ledger,
            query=f"eda: histogram of {f}",
        )
        merged = merge_small_bins(noisy.edges, noisy.counts, min_cell=min_cell)
        protection = LAPLACE_MERGED if merged.counts else merged.protection
        out[f] = Histogram(merged.edges, merged.counts, protection, noisy.noise_scale)
    return out
