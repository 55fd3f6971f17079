"""Metric registry: name -> (function, greater_is_better), so every leaderboard sorts one way.

Functions take validated arrays (class indices, (n, k) probabilities, the critical class index)
and return a float, or None when the metric is undefined on this holdout. `value_of` reads the
same metric from a stored Result, so a leaderboard never recomputes from predictions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cohortbench.errors import ValidationError
from cohortbench.scoring.ranking import roc_auc
from cohortbench.scoring.result import Result
from cohortbench.scoring.sums import Layout, features, metrics_from_sums
from cohortbench.scoring.validation import FloatArray, IntArray

DEFAULT_ECE_BINS = 10
MetricFunction = Callable[[IntArray, FloatArray, int], float | None]


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: how to compute it and which way is better."""

    name: str
    function: MetricFunction
    greater_is_better: bool

    def sort_key(self, value: float | None) -> tuple[int, float]:
        """Key for ascending sort that puts the best value first and undefined values last."""
        if value is None:
            return (1, 0.0)
        return (0, -value if self.greater_is_better else value)


def _from_sums(name: str) -> MetricFunction:
    def metric(y: IntArray, proba: FloatArray, critical: int) -> float | None:
        layout = Layout(k=proba.shape[1], n_bins=DEFAULT_ECE_BINS, critical=critical)
        value = float(metrics_from_sums(features(y, proba, layout).sum(axis=0), layout)[name])
        return value if np.isfinite(value) else None

    metric.__name__ = name
    return metric


def _critical_roc_auc(y: IntArray, proba: FloatArray, critical: int) -> float | None:
    value = roc_auc(proba[:, critical], y == critical)
    return value if np.isfinite(value) else None


_GREATER = (
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "weighted_f1",
    "critical_recall",
    "critical_precision",
    "critical_f1",
)
_LOWER = ("log_loss", "brier", "ece")

METRICS: dict[str, MetricSpec] = {
    **{n: MetricSpec(n, _from_sums(n), True) for n in _GREATER},
    **{n: MetricSpec(n, _from_sums(n), False) for n in _LOWER},
    "critical_roc_auc": MetricSpec("critical_roc_auc", _critical_roc_auc, True),
}


def get_metric(name: str) -> MetricSpec:
    """The registered metric `name`; ValidationError listing the known names otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        raise ValidationError(f"unknown metric {name!r}; known: {sorted(METRICS)}") from None


def value_of(result: Result, name: str) -> float | None:
    """The point value of registered metric `name` in a Result."""
    get_metric(name)
    estimate = getattr(result.headline, name)
    value: float | None = estimate.value
    return value
