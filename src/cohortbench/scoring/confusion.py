"""Confusion-matrix metrics, vectorised over any leading axes (bootstrap and jackknife batches).

Undefined values are NaN here (a class absent from the holdout has no recall; a class never
predicted has no precision) and become None at the Result boundary. Averages follow
scikit-learn's default label set: macro-F1 averages the classes that occur in y_true or y_pred,
balanced accuracy averages the recall of the classes present in y_true.
"""

from __future__ import annotations

import numpy as np

from cohortbench.scoring.validation import FloatArray, IntArray


def confusion_matrix(y: IntArray, pred: IntArray, k: int) -> IntArray:
    """Counts[t, p] of rows with true class t predicted as p (rows: truth, as in sklearn)."""
    return np.bincount(y * k + pred, minlength=k * k).reshape(k, k).astype(np.int64)


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    """num / den with NaN where den == 0, without warnings."""
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _nanmean(values: FloatArray, axis: int = -1) -> FloatArray:
    """Mean over the defined entries; NaN where none is defined."""
    defined = ~np.isnan(values)
    total = np.where(defined, values, 0.0).sum(axis=axis)
    return _ratio(total, defined.sum(axis=axis).astype(np.float64))


def class_metrics(cm: FloatArray) -> dict[str, FloatArray]:
    """Per-class precision, recall, F1, support and predicted counts from cm (..., k, k)."""
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    support = cm.sum(axis=-1)
    predicted = cm.sum(axis=-2)
    return {
        "precision": _ratio(tp, predicted),
        "recall": _ratio(tp, support),
        "f1": _ratio(2.0 * tp, support + predicted),
        "support": support,
        "predicted": predicted,
    }


def summary_metrics(cm: FloatArray, critical: int) -> dict[str, FloatArray]:
    """Headline confusion metrics from cm (..., k, k); each value has the leading shape of cm."""
    per = class_metrics(cm)
    n = per["support"].sum(axis=-1)
    trace = np.diagonal(cm, axis1=-2, axis2=-1).sum(axis=-1)
    f1_or_zero = np.where(per["support"] > 0, np.nan_to_num(per["f1"]), 0.0)
    return {
        "accuracy": _ratio(trace, n),
        "balanced_accuracy": _nanmean(per["recall"]),
        "macro_f1": _nanmean(per["f1"]),
        "weighted_f1": _ratio((f1_or_zero * per["support"]).sum(axis=-1), n),
        "critical_recall": per["recall"][..., critical],
        "critical_precision": per["precision"][..., critical],
        "critical_f1": per["f1"][..., critical],
    }
