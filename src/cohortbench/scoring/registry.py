"""The metric registry: the one table of what a metric is (like scikit-learn's `_SCORERS`).

Each entry holds the metric's name, its label on pages, which way is better, how it is computed
(from the bootstrap sums of scoring/sums.py, or its own function), and where it goes: whether a
workspace may rank by it (`primary`), whether a leaderboard row releases it with its interval
(`headline`), whether permutation importance reports its drop (`importance`), whether a paired
comparison of two models reports its difference (`compared`), and whether a fine-tune that makes it
worse is negative transfer whatever the headline says (`guard`). Workspace rules, the leaderboard's
sort, the paired comparison, the negative-transfer verdict, the results tables and their labels all
read this table.

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
    """A registered metric: how to compute it, which way is better, and where it is released."""

    name: str
    label: str
    function: MetricFunction
    greater_is_better: bool
    from_sums: bool = True  # computed from the bootstrap's per-record sums (scoring/sums.py)
    primary: bool = False  # a workspace may rank its leaderboard by it
    headline: bool = False  # a leaderboard row keeps it, with its 95% interval
    importance: bool = False  # permutation importance reports its drop
    compared: bool = False  # a paired comparison (scoring/compare.py) reports B - A with its interval
    guard: bool = False  # worse after fine-tuning = negative transfer (scoring/transfer.py)

    @property
    def title(self) -> str:
        """The label, saying which way is better when lower is."""
        return self.label if self.greater_is_better else f"{self.label} (lower is better)"

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


def _sums(name: str, label: str, greater_is_better: bool, **where: bool) -> MetricSpec:
    return MetricSpec(name, label, _from_sums(name), greater_is_better, **where)


METRICS: dict[str, MetricSpec] = {
    m.name: m
    for m in (
        _sums("macro_f1", "Macro-F1", True, primary=True, headline=True, importance=True, compared=True),
        _sums(
            "critical_recall",
            "Critical-class recall",
            True,
            primary=True,
            headline=True,
            importance=True,
            compared=True,
            guard=True,
        ),
        _sums("accuracy", "Accuracy", True, primary=True, headline=True, compared=True),
        _sums("balanced_accuracy", "Balanced accuracy", True, primary=True, headline=True, compared=True),
        _sums("weighted_f1", "Weighted F1", True, primary=True, headline=True, compared=True),
        _sums("critical_precision", "Critical-class precision", True),
        _sums("critical_f1", "Critical-class F1", True),
        _sums("log_loss", "Log loss", False, importance=True, compared=True, guard=True),
        _sums(
            "brier",
            "Brier score, multi-class sum form: 0 best, 2 worst; 2x sklearn's binary brier_score_loss",
            False,
            compared=True,
            guard=True,
        ),
        _sums("ece", "Expected calibration error", False),
        MetricSpec(
            "critical_roc_auc",
            "Critical-class ROC AUC vs rest",
            _critical_roc_auc,
            True,
            from_sums=False,
            compared=True,
            guard=True,
        ),
    )
}
#: the metrics the bootstrap computes from its per-record sums, in the registry's order
SUM_METRICS: tuple[str, ...] = tuple(name for name, m in METRICS.items() if m.from_sums)
#: the metrics a workspace may rank by (workspaces.rules.PrimaryMetric)
PRIMARY_METRICS: tuple[str, ...] = tuple(name for name, m in METRICS.items() if m.primary)
#: what a leaderboard row keeps of a result's headline, each with its interval
HEADLINE_METRICS: tuple[str, ...] = tuple(name for name, m in METRICS.items() if m.headline)
#: the metrics permutation importance reports a drop of, and which way is better
IMPORTANCE_METRICS: tuple[tuple[str, bool], ...] = tuple(
    (name, m.greater_is_better) for name, m in METRICS.items() if m.importance
)
#: what a paired comparison reports B - A of, from the paired bootstrap's sums (scoring/compare.py)
COMPARED: tuple[str, ...] = tuple(name for name, m in METRICS.items() if m.compared and m.from_sums)
#: compared on the same paired draws, but computed from ranks rather than from sums
RANK_COMPARED: tuple[str, ...] = tuple(name for name, m in METRICS.items() if m.compared and not m.from_sums)
#: worse on any of these after fine-tuning is negative transfer, whatever the headline metric did
GUARD_METRICS: tuple[str, ...] = tuple(name for name, m in METRICS.items() if m.guard)


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
