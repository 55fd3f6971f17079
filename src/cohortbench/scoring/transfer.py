"""transfer(): claimed vs out-of-the-box (baseline) vs fine-tuned performance on the workspace's holdout.

Transfer ratio = performance here / performance claimed ("real / ideal"). The fine-tuning gain
is the paired bootstrap difference finetune - baseline when both prediction matrices are given;
from stored Results alone only the point gain is known, and a metric is then called worse only
when the two intervals do not overlap (conservative).

Negative transfer is judged on the headline metric AND on the registry's GUARD_METRICS: two proper scoring rules
(log loss, Brier) and the critical class's recall and ROC AUC. A fine-tune can keep macro-F1 inside its
interval while its probabilities fall apart (log loss 0.25 -> 0.78) or the critical class is lost;
either is negative transfer for a clinical user, so `worse_on` names every metric that got worse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy.typing as npt

from cohortbench.errors import ValidationError
from cohortbench.scoring.codec import Serializable
from cohortbench.scoring.compare import compare
from cohortbench.scoring.registry import COMPARED, GUARD_METRICS, RANK_COMPARED, get_metric, value_of
from cohortbench.scoring.result import SCHEMA_VERSION, Estimate, Result

GainMethod = Literal["paired_bootstrap", "interval_overlap", "none"]


@dataclass(frozen=True)
class Transfer(Serializable):
    """How a model's performance carried over to this cohort, and what fine-tuning did to it."""

    schema_version: int
    metric: str
    greater_is_better: bool
    claimed: float | None
    baseline: float | None
    finetune: float | None
    baseline_ratio: float | None
    finetune_ratio: float | None
    gain: Estimate | None
    gain_p_value: float | None
    gain_method: GainMethod
    negative_transfer: bool
    worse_on: tuple[str, ...] = ()


def transfer_ratio(value: float | None, claimed: float | None) -> float | None:
    """Performance here / performance claimed; None when either is unknown or nothing was claimed."""
    if value is None or claimed is None or claimed == 0.0:
        return None
    return value / claimed


def _check_same_holdout(baseline: Result, finetune: Result) -> None:
    for field in ("n", "classes", "critical_class"):
        if getattr(baseline, field) != getattr(finetune, field):
            raise ValidationError(f"baseline and finetune results differ in {field}: not the same holdout")


def _worse(gain: Estimate, greater: bool) -> bool:
    """True when the whole interval of the gain lies on the bad side of zero."""
    if gain.low is None or gain.high is None:
        return False
    return gain.high < 0.0 if greater else gain.low > 0.0


def _overlap_gain(
    metric: str, baseline: Result, finetune: Result, greater: bool
) -> tuple[Estimate | None, bool]:
    base, fine = getattr(baseline.headline, metric), getattr(finetune.headline, metric)
    if base.value is None or fine.value is None:
        return None, False
    gain = Estimate(fine.value - base.value, None, None, "none", None, None)
    if None in (base.low, base.high, fine.low, fine.high):
        return gain, False
    worse = fine.high < base.low if greater else fine.low > base.high
    return gain, bool(worse)


def _comparison(
    baseline: Result, y_true: npt.ArrayLike, base_p: npt.ArrayLike, fine_p: npt.ArrayLike
) -> dict[str, tuple[Estimate, float | None]]:
    """finetune - baseline by paired bootstrap for every COMPARED metric, with the baseline's settings."""
    result = compare(
        y_true,
        base_p,
        fine_p,
        classes=baseline.classes,
        critical_class=baseline.critical_class,
        n_resamples=baseline.n_resamples,
        seed=baseline.seed,
        confidence=baseline.confidence,
    )
    return {m: (result.get(m).difference, result.get(m).p_value) for m in (*COMPARED, *RANK_COMPARED)}


def transfer(
    *,
    baseline: Result,
    claimed: float | None = None,
    finetune: Result | None = None,
    metric: str = "macro_f1",
    y_true: npt.ArrayLike | None = None,
    baseline_proba: npt.ArrayLike | None = None,
    finetune_proba: npt.ArrayLike | None = None,
) -> Transfer:
    """Transfer ratios and fine-tuning gain; pass y_true and both probas for the paired intervals."""
    greater = get_metric(metric).greater_is_better
    if claimed is not None and not math.isfinite(claimed):
        raise ValidationError(f"claimed {metric} must be a finite number, got {claimed!r}")
    base_value = value_of(baseline, metric)
    fine_value = None if finetune is None else value_of(finetune, metric)
    gain: Estimate | None = None
    p_value: float | None = None
    method: GainMethod = "none"
    worse_on: list[str] = []
    if finetune is not None:
        _check_same_holdout(baseline, finetune)
        given = [v is not None for v in (y_true, baseline_proba, finetune_proba)]
        if all(given):
            if metric not in COMPARED:
                raise ValidationError(f"paired gain is available for {list(COMPARED)}, not {metric!r}")
            paired = _comparison(baseline, y_true, baseline_proba, finetune_proba)  # type: ignore[arg-type]
            gain, p_value = paired[metric]
            method = "paired_bootstrap"
            for m in dict.fromkeys((metric, *GUARD_METRICS)):
                if _worse(paired[m][0], get_metric(m).greater_is_better):
                    worse_on.append(m)
        elif any(given):
            raise ValidationError("pass all of y_true, baseline_proba and finetune_proba, or none of them")
        else:
            method = "interval_overlap"
            for m in dict.fromkeys((metric, *GUARD_METRICS)):
                m_gain, m_worse = _overlap_gain(m, baseline, finetune, get_metric(m).greater_is_better)
                if m == metric:
                    gain = m_gain
                if m_worse:
                    worse_on.append(m)
    return Transfer(
        schema_version=SCHEMA_VERSION,
        metric=metric,
        greater_is_better=greater,
        claimed=None if claimed is None else float(claimed),
        baseline=base_value,
        finetune=fine_value,
        baseline_ratio=transfer_ratio(base_value, claimed),
        finetune_ratio=transfer_ratio(fine_value, claimed),
        gain=gain,
        gain_p_value=p_value,
        gain_method=method,
        negative_transfer=bool(worse_on),
        worse_on=tuple(worse_on),
    )
