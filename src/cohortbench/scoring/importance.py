"""Permutation importance from predictions on permuted copies of the holdout features.

The sandbox runs the model on copies where one feature (or one feature group, jointly) was
shuffled; the scorer only compares those predictions with the originals. Scores of each
repeat are kept so the spread across repeats can be shown next to the mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from cohortbench.errors import ValidationError
from cohortbench.scoring.registry import IMPORTANCE_METRICS
from cohortbench.scoring.result import Importance, Spread
from cohortbench.scoring.sums import Layout, features, metrics_from_sums
from cohortbench.scoring.validation import IntArray, validate_proba


@dataclass(frozen=True)
class PermutedPrediction:
    """The model's probabilities on the holdout with `name` (a feature or a group) permuted, repeat `repeat`."""

    kind: Literal["feature", "group"]
    name: str
    repeat: int
    proba: npt.NDArray[np.float64]


def _point_metrics(y: IntArray, proba: npt.NDArray[np.float64], layout: Layout) -> dict[str, float]:
    sums = features(y, proba, layout).sum(axis=0)
    found = metrics_from_sums(sums, layout)
    return {name: float(found[name]) for name, _ in IMPORTANCE_METRICS}


def _spread(drops: list[float]) -> Spread:
    values = np.asarray(drops, dtype=np.float64)
    defined = values[np.isfinite(values)]
    if defined.size == 0:
        return Spread(None, None, tuple(None for _ in drops))
    kept = tuple(float(v) if np.isfinite(v) else None for v in values)
    return Spread(float(defined.mean()), float(defined.std()), kept)


Kind = Literal["feature", "group"]


def _grouped(permuted: Sequence[PermutedPrediction]) -> dict[tuple[Kind, str], list[PermutedPrediction]]:
    groups: dict[tuple[Kind, str], list[PermutedPrediction]] = {}
    for item in permuted:
        if item.kind not in ("feature", "group"):
            raise ValidationError(f"permuted prediction kind must be 'feature' or 'group', got {item.kind!r}")
        groups.setdefault((item.kind, item.name), []).append(item)
    for (kind, name), items in groups.items():
        repeats = [i.repeat for i in items]
        if len(set(repeats)) != len(repeats):
            raise ValidationError(
                f"permuted predictions for {kind} {name!r} repeat a repeat number: {repeats}"
            )
    return groups


def permutation_importance(
    y: IntArray, original: dict[str, float], permuted: Sequence[PermutedPrediction], layout: Layout
) -> tuple[Importance, ...]:
    """One Importance per (kind, name), in order of first appearance, repeats sorted."""
    out = []
    for (kind, name), items in _grouped(permuted).items():
        drops: dict[str, list[float]] = {m: [] for m, _ in IMPORTANCE_METRICS}
        for item in sorted(items, key=lambda i: i.repeat):
            what = f"permuted proba ({kind} {name!r}, repeat {item.repeat})"
            scores = _point_metrics(y, validate_proba(item.proba, y.size, layout.k, what=what), layout)
            for metric, greater in IMPORTANCE_METRICS:
                delta = original[metric] - scores[metric]
                drops[metric].append(delta if greater else -delta)
        out.append(
            Importance(
                kind=kind,
                name=name,
                n_repeats=len(items),
                macro_f1=_spread(drops["macro_f1"]),
                critical_recall=_spread(drops["critical_recall"]),
                log_loss=_spread(drops["log_loss"]),
            )
        )
    return tuple(out)
