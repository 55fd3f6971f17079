"""Calibration: per-row Brier and log loss, binned ECE and reliability-curve points.

Binning is scikit-learn's calibration_curve binning (edges from linspace or percentiles, a value
on an edge goes to the lower bin), so the curve points match what a reviewer gets from sklearn.
Brier is the multiclass form, the sum over classes of squared errors (0 best, 2 worst); log loss
clips probabilities to [eps, 1 - eps] of float64, as sklearn does, so a confident miss is finite.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from cohortbench.scoring.validation import FloatArray, IntArray

Strategy = Literal["equal_width", "equal_mass"]
EPS = float(np.finfo(np.float64).eps)


def row_log_loss(y: IntArray, proba: FloatArray) -> FloatArray:
    """Negative log of the (clipped) probability given to the true class, per row."""
    p_true = proba[np.arange(y.size), y]
    return -np.log(np.clip(p_true, EPS, 1.0 - EPS))


def row_brier(y: IntArray, proba: FloatArray) -> FloatArray:
    """Sum over classes of (p - onehot)^2, per row."""
    onehot = np.zeros_like(proba)
    onehot[np.arange(y.size), y] = 1.0
    return np.asarray(((proba - onehot) ** 2).sum(axis=1), dtype=np.float64)


def bin_edges(scores: FloatArray, n_bins: int, strategy: Strategy) -> FloatArray:
    """Bin edges as sklearn's calibration_curve builds them ('uniform' / 'quantile')."""
    if strategy == "equal_width":
        return np.linspace(0.0, 1.0, n_bins + 1)
    return np.asarray(np.percentile(scores, np.linspace(0.0, 1.0, n_bins + 1) * 100), dtype=np.float64)


def bin_ids(scores: FloatArray, edges: FloatArray) -> IntArray:
    """Bin of each score; a score equal to an inner edge goes to the lower bin."""
    return np.searchsorted(edges[1:-1], scores).astype(np.int64)


def top_label(y: IntArray, proba: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Confidence (largest probability) and whether the argmax prediction is right, per row."""
    pred = proba.argmax(axis=1)
    return proba.max(axis=1), (pred == y).astype(np.float64)


def ece(confidence: FloatArray, correct: FloatArray, n_bins: int, strategy: Strategy) -> float:
    """Expected calibration error: sum over bins of |sum(confidence) - sum(correct)| / n."""
    ids = bin_ids(confidence, bin_edges(confidence, n_bins, strategy))
    gap = np.bincount(ids, weights=confidence - correct, minlength=n_bins)
    return float(np.abs(gap).sum() / confidence.size)


def reliability_points(
    outcome: FloatArray, scores: FloatArray, n_bins: int, strategy: Strategy
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Mean score, observed frequency and count of each non-empty bin (sklearn's curve + counts)."""
    ids = bin_ids(scores, bin_edges(scores, n_bins, strategy))
    count = np.bincount(ids, minlength=n_bins)
    mean_score = np.bincount(ids, weights=scores, minlength=n_bins)
    observed = np.bincount(ids, weights=outcome, minlength=n_bins)
    keep = count > 0
    return mean_score[keep] / count[keep], observed[keep] / count[keep], count[keep].astype(np.int64)
