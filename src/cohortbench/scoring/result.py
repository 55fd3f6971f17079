"""The scorer's output schema: nested frozen dataclasses with a schema version.

Every number a reviewer may quote sits in one place with its interval. Undefined numbers are
None (a class absent from the holdout has no recall), never 0 and never NaN, so the JSON form
is standard and a missing value cannot be mistaken for a bad one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Self

from cohortbench.errors import ValidationError
from cohortbench.scoring.codec import Serializable

SCHEMA_VERSION = 1
IntervalMethod = Literal["bca", "percentile", "exact", "none"]


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval."""

    low: float
    high: float


@dataclass(frozen=True)
class Estimate:
    """A point value and its intervals; low/high are exact binomial for proportions (scoring.exact),
    else BCa when defined, else percentile; `method` says which."""

    value: float | None
    low: float | None
    high: float | None
    method: IntervalMethod
    percentile: Interval | None
    bca: Interval | None


@dataclass(frozen=True)
class Headline:
    """The numbers a leaderboard row shows, each with its interval."""

    accuracy: Estimate
    balanced_accuracy: Estimate
    macro_f1: Estimate
    weighted_f1: Estimate
    critical_recall: Estimate
    critical_precision: Estimate
    critical_f1: Estimate
    critical_roc_auc: Estimate
    log_loss: Estimate
    brier: Estimate
    ece: Estimate


@dataclass(frozen=True)
class ClassMetrics:
    """One class: support, how often predicted, P/R/F1 with intervals, one-vs-rest AUCs."""

    name: str
    support: int
    predicted: int
    precision: Estimate
    recall: Estimate
    f1: Estimate
    roc_auc: float | None
    pr_auc: float | None


@dataclass(frozen=True)
class OperatingPoint:
    """Critical-class sensitivity at a target specificity (score >= threshold counts as positive).

    The four cells at that threshold give PPV and NPV and their exact intervals (scoring.exact).
    """

    target_specificity: float
    sensitivity: float | None
    specificity: float | None
    threshold: float | None
    tp: int | None = None
    fp: int | None = None
    tn: int | None = None
    fn: int | None = None


@dataclass(frozen=True)
class Curve:
    """Points of a curve in the unit square (at most MAX_CURVE_POINTS, the ends kept)."""

    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class CriticalCurves:
    """The critical class against the rest: ROC (false-positive rate, sensitivity) and
    precision-recall (recall, precision), as sklearn's roc_curve / precision_recall_curve give them."""

    roc: Curve
    pr: Curve


@dataclass(frozen=True)
class ReliabilityCurve:
    """Reliability-diagram points of one class (one-vs-rest) or of the top label."""

    label: str
    strategy: Literal["equal_width", "equal_mass"]
    mean_predicted: tuple[float, ...]
    fraction_positive: tuple[float, ...]
    count: tuple[int, ...]


@dataclass(frozen=True)
class Calibration:
    """Top-label ECE under both binnings, and the curves to plot."""

    n_bins: int
    ece_equal_width: float
    ece_equal_mass: float
    curves: tuple[ReliabilityCurve, ...]


@dataclass(frozen=True)
class Spread:
    """Mean and population std (ddof=0, as sklearn's permutation_importance) over repeats."""

    mean: float | None
    std: float | None
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Importance:
    """Permutation importance of one feature or feature group: the drop in each metric when permuted.

    Positive means the model relies on it: score(original) - score(permuted) for macro-F1 and
    critical recall, log_loss(permuted) - log_loss(original) for log loss.
    """

    kind: Literal["feature", "group"]
    name: str
    n_repeats: int
    macro_f1: Spread
    critical_recall: Spread
    log_loss: Spread


@dataclass(frozen=True)
class Result(Serializable):
    """Everything the scorer says about one run on one holdout."""

    schema_version: int
    n: int
    classes: tuple[str, ...]
    critical_class: str
    confidence: float
    n_resamples: int
    seed: int
    headline: Headline
    per_class: tuple[ClassMetrics, ...]
    confusion: tuple[tuple[int, ...], ...]
    operating_points: tuple[OperatingPoint, ...]
    calibration: Calibration
    importance: tuple[Importance, ...]
    critical_curves: CriticalCurves | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Inverse of to_dict; refuses a result written under another schema version."""
        version = data.get("schema_version") if isinstance(data, dict) else None
        if version != SCHEMA_VERSION:
            raise ValidationError(
                f"result schema_version {version!r} is not supported (expected {SCHEMA_VERSION})"
            )
        return super().from_dict(data)
