"""Bootstrap distributions, jackknife values and Estimates for every interval-bearing statistic.

All statistics of all resamples come from one pass over the stratified weight chunks: a matrix
product for the sum-based metrics and a sort-free cumulative sum for ROC-AUC. The same weights
serve two models at once in a paired comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cohortbench.scoring.intervals import bca_interval, percentile_interval
from cohortbench.scoring.ranking import jackknife_auc, roc_auc, sorted_weighted_auc, weighted_auc
from cohortbench.scoring.resampling import stratified_weights
from cohortbench.scoring.result import Estimate, Interval, IntervalMethod
from cohortbench.scoring.validation import FloatArray, IntArray

MetricFn = Callable[[FloatArray], dict[str, FloatArray]]
"""Maps column sums (..., width) to named metric arrays (...)."""


@dataclass(frozen=True)
class AucSpec:
    """A ROC-AUC to bootstrap: the scores and which rows are the positive class."""

    scores: FloatArray
    positive: np.ndarray


@dataclass(frozen=True)
class Draws:
    """Observed value, bootstrap distribution (B,) and jackknife values (n,) per statistic."""

    observed: dict[str, float]
    boot: dict[str, FloatArray]
    jack: dict[str, FloatArray]


def resample(
    strata: IntArray, feats: FloatArray, aucs: Sequence[AucSpec], n_resamples: int, seed: int
) -> tuple[FloatArray, FloatArray]:
    """Column sums of feats (B, width) and the AUCs (B, len(aucs)) of every stratified resample.

    Rows are put in ascending order of the first AUC's scores before drawing, so that AUC needs
    no per-resample reordering; the order of rows does not change any statistic.
    """
    order = np.argsort(aucs[0].scores, kind="stable") if aucs else np.arange(strata.size)
    feats, first = feats[order], [AucSpec(a.scores[order], a.positive[order]) for a in aucs[:1]]
    rng = np.random.default_rng(seed)
    sums, auc_values = [], []
    for weights in stratified_weights(strata[order], n_resamples, rng):
        sums.append(weights @ feats)
        found = [sorted_weighted_auc(a.scores, a.positive, weights) for a in first]
        found += [weighted_auc(a.scores[order], a.positive[order], weights) for a in aucs[1:]]
        auc_values.append(np.stack(found, axis=-1) if found else np.empty((weights.shape[0], 0)))
    return np.concatenate(sums), np.concatenate(auc_values)


def draws(
    strata: IntArray,
    feats: FloatArray,
    metrics: MetricFn,
    aucs: Sequence[AucSpec],
    n_resamples: int,
    seed: int,
) -> Draws:
    """Observed, bootstrap and jackknife values of every metric of `metrics` and of each AUC ("auc/<j>")."""
    sums, auc_boot = resample(strata, feats, aucs, n_resamples, seed)
    total = feats.sum(axis=0)
    observed = {k: float(v) for k, v in metrics(total).items()}
    boot = metrics(sums)
    jack = metrics(total[None, :] - feats)
    for j, spec in enumerate(aucs):
        observed[f"auc/{j}"] = roc_auc(spec.scores, spec.positive)
        boot[f"auc/{j}"] = auc_boot[:, j]
        jack[f"auc/{j}"] = jackknife_auc(spec.scores, spec.positive)
    return Draws(observed, boot, jack)


def estimate(observed: float, boot: FloatArray, jack: FloatArray, confidence: float) -> Estimate:
    """Estimate with both intervals; None everywhere when the statistic itself is undefined."""
    if not np.isfinite(observed):
        return Estimate(None, None, None, "none", None, None)
    pct = percentile_interval(boot, confidence)
    bca = bca_interval(observed, boot, jack, confidence)
    method: IntervalMethod = "bca" if bca is not None else "percentile"
    chosen = bca if bca is not None else pct
    return Estimate(
        value=float(observed),
        low=None if chosen is None else chosen[0],
        high=None if chosen is None else chosen[1],
        method=method if chosen is not None else "none",
        percentile=None if pct is None else Interval(*pct),
        bca=None if bca is None else Interval(*bca),
    )
