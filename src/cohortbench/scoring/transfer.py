"""transfer(): claimed vs out-of-the-box (baseline) vs fine-tuned performance on the workspace's holdout.

Transfer ratio = performance here / performance claimed ("real / ideal"). The fine-tuning gain
is the paired bootstrap difference finetune - baseline when both prediction matrices are given;
from stored Results alone only the point gain is known, and negative transfer is then called
only when the two intervals do not overlap (conservative).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy.typing as npt

from cohortbench.errors import ValidationError
from cohortbench.scoring.codec import Serializable
from cohortbench.scoring.compare import COMPARED, compare
from cohortbench.scoring.registry import get_metric, value_of
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


def _ratio(value: float | None, claimed: float | None) -> float | None:
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


def _paired_gain(
    metric: str, baseline: Result, y_true: npt.ArrayLike, base_p: npt.ArrayLike, fine_p: npt.ArrayLike
) -> tuple[Estimate, float | None]:
    """finetune - baseline by paired bootstrap, with the baseline Result's resampling settings."""
    if metric not in COMPARED:
        raise ValidationError(f"paired gain is available for {list(COMPARED)}, not {metric!r}")
    diff = compare(
        y_true,
        base_p,
        fine_p,
        classes=baseline.classes,
        critical_class=baseline.critical_class,
        n_resamples=baseline.n_resamples,
        seed=baseline.seed,
        confidence=baseline.confidence,
    ).get(metric)
    return diff.difference, diff.p_value


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
    """Transfer ratios and fine-tuning gain; pass y_true and both probas for the paired interval."""
    greater = get_metric(metric).greater_is_better
    if claimed is not None and not math.isfinite(claimed):
        raise ValidationError(f"claimed {metric} must be a finite number, got {claimed!r}")
    base_value = value_of(baseline, metric)
    fine_value = None if finetune is None else value_of(finetune, metric)
    gain: Estimate | None = None
    p_value: float | None = None
    method: GainMethod = "none"
    negative = False
    if finetune is not None:
        _check_same_holdout(baseline, finetune)
        if y_true is not None and baseline_proba is not None and finetune_proba is not None:
            gain, p_value = _paired_gain(metric, baseline, y_true, baseline_proba, finetune_proba)
            method, negative = "paired_bootstrap", _worse(gain, greater)
        elif y_true is not None or baseline_proba is not None or finetune_proba is not None:
            raise ValidationError("pass all of y_true, baseline_proba and finetune_proba, or none of them")
        else:
            (gain, negative), method = _overlap_gain(metric, baseline, finetune, greater), "interval_overlap"
    return Transfer(
        schema_version=SCHEMA_VERSION,
        metric=metric,
        greater_is_better=greater,
        claimed=None if claimed is None else float(claimed),
        baseline=base_value,
        finetune=fine_value,
        baseline_ratio=_ratio(base_value, claimed),
        finetune_ratio=_ratio(fine_value, claimed),
        gain=gain,
        gain_p_value=p_value,
        gain_method=method,
        negative_transfer=negative,
    )
