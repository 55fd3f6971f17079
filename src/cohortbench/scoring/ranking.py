"""Threshold-free one-vs-rest metrics: ROC-AUC, average precision (PR-AUC), sensitivity at specificity.

ROC-AUC is computed from tie groups of the scores (a tie counts one half, as in sklearn), in a
weighted form so that all bootstrap resamples are one sort plus cumulative sums, and in a closed
leave-one-out form for the BCa jackknife. NaN means undefined (no positive or no negative row).
"""

from __future__ import annotations

import numpy as np

from cohortbench.scoring.confusion import _ratio
from cohortbench.scoring.validation import FloatArray

SPECIFICITY_TOL = 1e-12


def _tie_groups(scores: FloatArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ascending sort order, start index of each run of equal scores, and each row's run."""
    order = np.argsort(scores, kind="stable")
    ordered = scores[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ordered) != 0) + 1))
    group_sorted = np.cumsum(np.r_[0, np.diff(ordered) != 0])
    group = np.empty_like(group_sorted)
    group[order] = group_sorted
    return order, starts, group


def sorted_weighted_auc(scores: FloatArray, positive: np.ndarray, weights: FloatArray) -> FloatArray:
    """weighted_auc for rows already in ascending score order: one cumulative sum, no reordering.

    For a positive row in tie group g, the negatives it beats are those below g plus half of
    those in g: with C the running sum of negative weights, that is (C[start_g - 1] + C[end_g]) / 2.
    """
    starts = np.r_[0, np.flatnonzero(np.diff(scores) != 0) + 1]
    ends = np.r_[starts[1:], scores.size] - 1
    group = np.cumsum(np.r_[0, np.diff(scores) != 0])
    pos = np.flatnonzero(positive)
    cum = weights.copy()
    cum[:, pos] = 0.0
    np.cumsum(cum, axis=1, out=cum)
    before, last = starts[group[pos]] - 1, ends[group[pos]]
    below = np.where(before >= 0, cum[:, np.maximum(before, 0)], 0.0)
    w_pos = weights[:, pos]
    pairs = (w_pos * 0.5 * (below + cum[:, last])).sum(axis=1)
    return _ratio(pairs, w_pos.sum(axis=1) * cum[:, -1])


def weighted_auc(scores: FloatArray, positive: np.ndarray, weights: FloatArray) -> FloatArray:
    """ROC-AUC under each row of weights (B, n): sum over positive/negative pairs of 1[s+ > s-] + ½·tie."""
    order = np.argsort(scores, kind="stable")
    return sorted_weighted_auc(scores[order], positive[order], weights[:, order])


def roc_auc(scores: FloatArray, positive: np.ndarray) -> float:
    """One-vs-rest ROC-AUC of one class; NaN when the class is absent or is every row."""
    return float(weighted_auc(scores, positive, np.ones((1, scores.size)))[0])


def jackknife_auc(scores: FloatArray, positive: np.ndarray) -> FloatArray:
    """ROC-AUC with each row left out in turn, in closed form (no refit per row)."""
    group = _tie_groups(scores)[2]
    pos_g = np.bincount(group, weights=positive.astype(np.float64))
    neg_g = np.bincount(group, weights=(~positive).astype(np.float64))
    n_pos, n_neg = pos_g.sum(), neg_g.sum()
    neg_below = (np.cumsum(neg_g) - neg_g)[group]
    pos_above = (pos_g[::-1].cumsum()[::-1] - pos_g)[group]
    own = np.where(positive, neg_below + 0.5 * neg_g[group], pos_above + 0.5 * pos_g[group])
    pairs = float(np.sum(np.where(positive, own, 0.0)))
    den = np.where(positive, (n_pos - 1) * n_neg, n_pos * (n_neg - 1))
    return _ratio(pairs - own, den)


def average_precision(scores: FloatArray, positive: np.ndarray) -> float:
    """Step-wise area under the precision-recall curve (sklearn's average_precision_score)."""
    n_pos = int(positive.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    ordered, hits = scores[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(ordered) != 0), ordered.size - 1]
    tps = np.cumsum(hits)[last]
    precision = tps / (last + 1.0)
    recall_step = np.diff(np.r_[0, tps]) / n_pos
    return float(np.sum(recall_step * precision))


def sensitivity_at_specificity(
    scores: FloatArray, positive: np.ndarray, specificity: float
) -> tuple[float, float, float]:
    """Best (sensitivity, achieved specificity, threshold) with specificity >= target; score >= threshold is positive."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan"), float("nan"), float("nan")
    order = np.argsort(-scores, kind="stable")
    ordered, hits = scores[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(ordered) != 0), ordered.size - 1]
    tps = np.r_[0, np.cumsum(hits)[last]]
    fps = np.r_[0, (last + 1) - tps[1:]]
    thresholds = np.r_[np.inf, ordered[last]]
    feasible = fps / n_neg <= 1.0 - specificity + SPECIFICITY_TOL
    best = int(np.flatnonzero(feasible)[np.argmax(tps[feasible])])
    return tps[best] / n_pos, 1.0 - fps[best] / n_neg, float(thresholds[best])
