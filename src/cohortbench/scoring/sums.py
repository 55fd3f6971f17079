"""Per-row features whose column sums determine every count-based metric.

Accuracy, F1s, recalls, Brier, log loss and equal-width ECE are all functions of sums over rows
(confusion cells, summed losses, per-bin confidence and correctness). So a bootstrap resample is
`weights @ features`, a leave-one-out jackknife value is `total - features[i]`, and one function
turns any batch of sums into metrics: the point estimate, 2,000 resamples and n jackknife
values all go through the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cohortbench.scoring.calibration import bin_edges, bin_ids, row_brier, row_log_loss, top_label
from cohortbench.scoring.confusion import _ratio, class_metrics, summary_metrics
from cohortbench.scoring.validation import FloatArray, IntArray


@dataclass(frozen=True)
class Layout:
    """Column layout of the feature matrix: k*k confusion cells, 2 losses, 2 x n_bins ECE sums."""

    k: int
    n_bins: int
    critical: int

    @property
    def width(self) -> int:
        return self.k * self.k + 2 + 2 * self.n_bins


def features(y: IntArray, proba: FloatArray, layout: Layout) -> FloatArray:
    """(n, width) matrix; predictions are the argmax of proba (ties: the lowest class index)."""
    n, k, m = y.size, layout.k, layout.n_bins
    out = np.zeros((n, layout.width), dtype=np.float64)
    rows = np.arange(n)
    out[rows, y * k + proba.argmax(axis=1)] = 1.0
    out[:, k * k] = row_log_loss(y, proba)
    out[:, k * k + 1] = row_brier(y, proba)
    confidence, correct = top_label(y, proba)
    ids = bin_ids(confidence, bin_edges(confidence, m, "equal_width"))
    base = k * k + 2
    out[rows, base + ids] = confidence
    out[rows, base + m + ids] = correct
    return out


def metrics_from_sums(sums: FloatArray, layout: Layout) -> dict[str, FloatArray]:
    """Metrics for sums of shape (..., width): the registry's SUM_METRICS plus per-class precision/recall/f1."""
    k, m = layout.k, layout.n_bins
    cm = sums[..., : k * k].reshape(*sums.shape[:-1], k, k)
    n = cm.sum(axis=(-2, -1))
    out = summary_metrics(cm, layout.critical)
    out["log_loss"] = _ratio(sums[..., k * k], n)
    out["brier"] = _ratio(sums[..., k * k + 1], n)
    base = k * k + 2
    gaps = sums[..., base : base + m] - sums[..., base + m : base + 2 * m]
    out["ece"] = _ratio(np.abs(gaps).sum(axis=-1), n)
    per = class_metrics(cm)
    for i in range(k):
        for name in ("precision", "recall", "f1"):
            out[f"{name}/{i}"] = per[name][..., i]
    return out
