"""compare(): two models on the same holdout, by paired bootstrap and McNemar's test.

Pairing (both models scored on the same resample of rows) removes the between-holdout noise
that two separate intervals would double count, so small but real gains become visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import numpy.typing as npt
from scipy.stats import binomtest, chi2

from cohortbench.scoring.bootstrap import AucSpec, draws, estimate
from cohortbench.scoring.codec import Serializable
from cohortbench.scoring.engine import check_options
from cohortbench.scoring.intervals import bootstrap_p_value
from cohortbench.scoring.registry import COMPARED, RANK_COMPARED
from cohortbench.scoring.result import SCHEMA_VERSION, Estimate
from cohortbench.scoring.sums import Layout, features, metrics_from_sums
from cohortbench.scoring.validation import FloatArray, validate_inputs, validate_proba


@dataclass(frozen=True)
class Difference:
    """Metric of model A, of model B, and B - A with its paired interval and two-sided p-value."""

    metric: str
    a: float | None
    b: float | None
    difference: Estimate
    p_value: float | None


@dataclass(frozen=True)
class McNemar:
    """McNemar's test on per-row correctness: exact binomial p and chi-square with continuity correction."""

    only_a_correct: int
    only_b_correct: int
    p_value_exact: float
    statistic_chi2: float | None
    p_value_chi2: float | None


@dataclass(frozen=True)
class Comparison(Serializable):
    """Paired comparison of model B against model A on one holdout."""

    schema_version: int
    n: int
    classes: tuple[str, ...]
    critical_class: str
    confidence: float
    n_resamples: int
    seed: int
    differences: tuple[Difference, ...]
    mcnemar: McNemar

    def get(self, metric: str) -> Difference:
        """The Difference for one metric name."""
        for diff in self.differences:
            if diff.metric == metric:
                return diff
        raise KeyError(metric)


def pair_metrics(sums: FloatArray, layout: Layout) -> dict[str, FloatArray]:
    """Metrics of sums over [features_a | features_b]: a/<m>, b/<m> and diff/<m> = b - a."""
    width = layout.width
    a = metrics_from_sums(sums[..., :width], layout)
    b = metrics_from_sums(sums[..., width:], layout)
    out = {f"a/{m}": a[m] for m in COMPARED} | {f"b/{m}": b[m] for m in COMPARED}
    return out | {f"diff/{m}": b[m] - a[m] for m in COMPARED}


def mcnemar(correct_a: npt.NDArray[np.bool_], correct_b: npt.NDArray[np.bool_]) -> McNemar:
    """Exact two-sided binomial test on discordant pairs; chi-square (|b-c|-1)^2/(b+c) beside it."""
    only_a = int(np.sum(correct_a & ~correct_b))
    only_b = int(np.sum(correct_b & ~correct_a))
    discordant = only_a + only_b
    if discordant == 0:
        return McNemar(only_a, only_b, 1.0, None, None)
    exact = float(binomtest(only_a, discordant, 0.5).pvalue)
    stat = (abs(only_a - only_b) - 1.0) ** 2 / discordant if abs(only_a - only_b) > 0 else 0.0
    return McNemar(only_a, only_b, exact, stat, float(chi2.sf(stat, 1)))


def compare(
    y_true: npt.ArrayLike,
    proba_a: npt.ArrayLike,
    proba_b: npt.ArrayLike,
    *,
    classes: Sequence[str],
    critical_class: str,
    n_resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Comparison:
    """Paired stratified bootstrap of B - A for the COMPARED metrics, and McNemar on correctness."""
    check_options(n_resamples, confidence, 1)
    inputs = validate_inputs(y_true, proba_a, classes, critical_class)
    pb = validate_proba(proba_b, inputs.y.size, len(inputs.classes), what="proba_b")
    layout = Layout(k=len(inputs.classes), n_bins=1, critical=inputs.critical)
    fa, fb = features(inputs.y, inputs.proba, layout), features(inputs.y, pb, layout)
    both = np.concatenate([fa, fb], axis=1)
    positive = inputs.y == inputs.critical
    aucs = [AucSpec(p[:, inputs.critical], positive) for p in (inputs.proba, pb)]
    d = draws(inputs.y, both, partial(pair_metrics, layout=layout), aucs, n_resamples, seed)
    # the critical class's AUC is rank-based, not a sum: its two bootstraps share the same draws
    for kind in ("observed", "boot", "jack"):
        table = getattr(d, kind)
        table["a/critical_roc_auc"], table["b/critical_roc_auc"] = table["auc/0"], table["auc/1"]
        table["diff/critical_roc_auc"] = table["auc/1"] - table["auc/0"]
    diffs = []
    for metric in (*COMPARED, *RANK_COMPARED):
        key = f"diff/{metric}"
        diffs.append(
            Difference(
                metric=metric,
                a=_finite(d.observed[f"a/{metric}"]),
                b=_finite(d.observed[f"b/{metric}"]),
                difference=estimate(d.observed[key], d.boot[key], d.jack[key], confidence),
                p_value=bootstrap_p_value(d.boot[key]) if np.isfinite(d.observed[key]) else None,
            )
        )
    pred_a, pred_b = inputs.proba.argmax(axis=1), pb.argmax(axis=1)
    return Comparison(
        schema_version=SCHEMA_VERSION,
        n=int(inputs.y.size),
        classes=inputs.classes,
        critical_class=critical_class,
        confidence=float(confidence),
        n_resamples=n_resamples,
        seed=seed,
        differences=tuple(diffs),
        mcnemar=mcnemar(pred_a == inputs.y, pred_b == inputs.y),
    )


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
