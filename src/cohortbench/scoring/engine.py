"""score(): holdout labels and predicted probabilities in, a complete Result out."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import numpy.typing as npt

from cohortbench.errors import ValidationError
from cohortbench.scoring.bootstrap import AucSpec, Draws, draws, estimate
from cohortbench.scoring.calibration import Strategy, ece, reliability_points, top_label
from cohortbench.scoring.confusion import confusion_matrix
from cohortbench.scoring.exact import with_exact
from cohortbench.scoring.importance import PermutedPrediction, permutation_importance
from cohortbench.scoring.ranking import average_precision, roc_auc, sensitivity_at_specificity
from cohortbench.scoring.registry import SUM_METRICS
from cohortbench.scoring.result import (
    SCHEMA_VERSION,
    Calibration,
    ClassMetrics,
    CriticalCurves,
    Curve,
    Estimate,
    Headline,
    OperatingPoint,
    ReliabilityCurve,
    Result,
)
from cohortbench.scoring.sums import Layout, features, metrics_from_sums
from cohortbench.scoring.validation import FloatArray, Inputs, validate_inputs

TARGET_SPECIFICITIES = (1.0, 0.95, 0.90)
DEFAULT_BINS = 10


def _or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def check_options(n_resamples: int, confidence: float, n_bins: int) -> None:
    """Reject bootstrap settings that would give meaningless intervals."""
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValidationError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if not 0.0 < confidence < 1.0:
        raise ValidationError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    if n_bins < 1:
        raise ValidationError(f"n_bins must be at least 1, got {n_bins!r}")


def _headline(d: Draws, cm: npt.NDArray[np.int64], critical: int, confidence: float) -> Headline:
    est = {name: estimate(d.observed[name], d.boot[name], d.jack[name], confidence) for name in SUM_METRICS}
    hits = int(cm[critical, critical])
    est["accuracy"] = with_exact(est["accuracy"], int(np.trace(cm)), int(cm.sum()), confidence)
    est["critical_recall"] = with_exact(est["critical_recall"], hits, int(cm[critical].sum()), confidence)
    est["critical_precision"] = with_exact(
        est["critical_precision"], hits, int(cm[:, critical].sum()), confidence
    )
    auc = estimate(d.observed["auc/0"], d.boot["auc/0"], d.jack["auc/0"], confidence)
    return Headline(critical_roc_auc=auc, **est)


def _per_class(
    inputs: Inputs, d: Draws, cm: npt.NDArray[np.int64], confidence: float
) -> tuple[ClassMetrics, ...]:
    def est(name: str, i: int) -> Estimate:
        key = f"{name}/{i}"
        return estimate(d.observed[key], d.boot[key], d.jack[key], confidence)

    out = []
    for i, name in enumerate(inputs.classes):
        positive = inputs.y == i
        out.append(
            ClassMetrics(
                name=name,
                support=int(cm[i].sum()),
                predicted=int(cm[:, i].sum()),
                precision=with_exact(est("precision", i), int(cm[i, i]), int(cm[:, i].sum()), confidence),
                recall=with_exact(est("recall", i), int(cm[i, i]), int(cm[i].sum()), confidence),
                f1=est("f1", i),
                roc_auc=_or_none(roc_auc(inputs.proba[:, i], positive)),
                pr_auc=_or_none(average_precision(inputs.proba[:, i], positive)),
            )
        )
    return tuple(out)


def _operating_points(inputs: Inputs) -> tuple[OperatingPoint, ...]:
    scores, positive = inputs.proba[:, inputs.critical], inputs.y == inputs.critical
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    out = []
    for target in TARGET_SPECIFICITIES:
        sens, spec, threshold = sensitivity_at_specificity(scores, positive, target)
        if not np.isfinite(sens):
            out.append(OperatingPoint(target, None, None, None))
            continue
        tp, tn = round(sens * n_pos), round(spec * n_neg)
        cells = {"tp": tp, "fn": n_pos - tp, "tn": tn, "fp": n_neg - tn}
        out.append(OperatingPoint(target, _or_none(sens), _or_none(spec), _or_none(threshold), **cells))
    return tuple(out)


MAX_CURVE_POINTS = 60


def _thin(x: FloatArray, y: FloatArray) -> Curve:
    """At most MAX_CURVE_POINTS points, evenly spaced along the curve, both ends kept."""
    keep = np.unique(np.linspace(0, x.size - 1, min(x.size, MAX_CURVE_POINTS)).round().astype(int))
    return Curve(tuple(float(v) for v in x[keep]), tuple(float(v) for v in y[keep]))


def _critical_curves(inputs: Inputs) -> CriticalCurves | None:
    """ROC and precision-recall of the critical class (scikit-learn's curves); None without both kinds."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    scores, positive = inputs.proba[:, inputs.critical], inputs.y == inputs.critical
    if positive.all() or not positive.any():
        return None
    fpr, tpr, _ = roc_curve(positive, scores)
    precision, recall, _ = precision_recall_curve(positive, scores)
    order = np.argsort(recall, kind="stable")
    return CriticalCurves(roc=_thin(fpr, tpr), pr=_thin(recall[order], precision[order]))


def _curve(
    label: str, outcome: FloatArray, scores: FloatArray, n_bins: int, strategy: Strategy
) -> ReliabilityCurve:
    mean, frac, count = reliability_points(outcome, scores, n_bins, strategy)
    return ReliabilityCurve(
        label=label,
        strategy=strategy,
        mean_predicted=tuple(float(v) for v in mean),
        fraction_positive=tuple(float(v) for v in frac),
        count=tuple(int(v) for v in count),
    )


def _calibration(inputs: Inputs, n_bins: int) -> Calibration:
    conf, correct = top_label(inputs.y, inputs.proba)
    strategies: tuple[Strategy, ...] = ("equal_width", "equal_mass")
    curves = [_curve("top-label", correct, conf, n_bins, s) for s in strategies]
    for i, name in enumerate(inputs.classes):
        curves.append(
            _curve(name, (inputs.y == i).astype(np.float64), inputs.proba[:, i], n_bins, "equal_width")
        )
    return Calibration(
        n_bins=n_bins,
        ece_equal_width=ece(conf, correct, n_bins, "equal_width"),
        ece_equal_mass=ece(conf, correct, n_bins, "equal_mass"),
        curves=tuple(curves),
    )


def score(
    y_true: npt.ArrayLike,
    proba: npt.ArrayLike,
    *,
    classes: Sequence[str],
    critical_class: str,
    n_resamples: int = 2000,
    seed: int = 0,
    permuted: Sequence[PermutedPrediction] = (),
    confidence: float = 0.95,
    n_bins: int = DEFAULT_BINS,
) -> Result:
    """Score one run: headline metrics with stratified-bootstrap intervals, per class, calibration, importance.

    y_true: class indices 0..k-1 in `classes` order, or class names. proba: (n, k), rows summing
    to 1 within ROW_SUM_ATOL. Predictions are the argmax of proba (ties go to the lower index).
    """
    check_options(n_resamples, confidence, n_bins)
    inputs = validate_inputs(y_true, proba, classes, critical_class)
    layout = Layout(k=len(inputs.classes), n_bins=n_bins, critical=inputs.critical)
    feats = features(inputs.y, inputs.proba, layout)
    spec = AucSpec(inputs.proba[:, inputs.critical], inputs.y == inputs.critical)
    d = draws(inputs.y, feats, partial(metrics_from_sums, layout=layout), [spec], n_resamples, seed)
    cm = confusion_matrix(inputs.y, inputs.proba.argmax(axis=1), layout.k)
    return Result(
        schema_version=SCHEMA_VERSION,
        n=int(inputs.y.size),
        classes=inputs.classes,
        critical_class=critical_class,
        confidence=float(confidence),
        n_resamples=n_resamples,
        seed=seed,
        headline=_headline(d, cm, inputs.critical, confidence),
        per_class=_per_class(inputs, d, cm, confidence),
        confusion=tuple(tuple(int(v) for v in row) for row in cm),
        operating_points=_operating_points(inputs),
        calibration=_calibration(inputs, n_bins),
        importance=permutation_importance(inputs.y, d.observed, permuted, layout),
        critical_curves=_critical_curves(inputs),
    )
