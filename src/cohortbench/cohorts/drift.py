"""Covariate and label shift between two samples of one cohort schema: a new batch against the cohort
it joins, or a version's holdout against its train split.

Per feature: the population stability index (PSI) on **quantile bins of the reference** (deciles by
default; ties merge bins, so a feature with few distinct values gets fewer bins; a bin empty on one
side counts as 1e-4 of it), and the two-sample Kolmogorov–Smirnov test (`scipy.stats.ks_2samp`) with
Benjamini–Hochberg FDR-adjusted p-values over all features (`scipy.stats.false_discovery_control`).
A feature is flagged when its adjusted p-value is below the FDR level. Per class: counts, shares,
a chi-square test of homogeneity and the total variation distance. Per feature group: how many
features are flagged and their PSI. Over the sequence of batches: river's ADWIN on each feature's
values, as reference-quantile ranks in arrival order, says whether (and in which batch) the mean
rank changed. Plain functions on frames: no service, store or web import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from river.drift import ADWIN
from scipy.stats import chi2_contingency, false_discovery_control, ks_2samp

from cohortbench.errors import ValidationError

PSI_BINS = 10
PSI_FLOOR = 1e-4
PSI_MODERATE = 0.1
PSI_MAJOR = 0.25
FDR = 0.05
ADWIN_DELTA = 0.002
BINNING = (
    f"PSI on {PSI_BINS} quantile bins of the reference sample (tied edges merged; an empty bin counts as "
    f"{PSI_FLOOR:g}); PSI >= {PSI_MODERATE} moderate, >= {PSI_MAJOR} major shift"
)


@dataclass(frozen=True)
class FeatureShift:
    name: str
    group: str
    psi: float
    ks_statistic: float
    p_value: float
    q_value: float  # Benjamini–Hochberg adjusted over every feature of the report
    flagged: bool  # q_value < the report's FDR level
    adwin_batch: int | None = None  # first batch (1-based, after the reference) where ADWIN saw a change


@dataclass(frozen=True)
class ClassShift:
    reference: dict[str, int]
    current: dict[str, int]
    chi2_p_value: float | None
    total_variation: float


@dataclass(frozen=True)
class GroupShift:
    group: str
    n_features: int
    n_flagged: int
    median_psi: float
    max_psi: float
    top_feature: str


@dataclass(frozen=True)
class DriftReport:
    reference: str
    current: str
    n_reference: int
    n_current: int
    fdr: float
    binning: str
    features: list[FeatureShift]
    classes: ClassShift
    groups: list[GroupShift]

    @property
    def flagged(self) -> list[str]:
        return [f.name for f in self.features if f.flagged]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flagged": self.flagged}


def psi(reference: np.ndarray, current: np.ndarray, *, bins: int = PSI_BINS) -> float:
    """Population stability index of `current` against `reference` on the reference's quantile bins."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if ref.size == 0 or cur.size == 0:
        raise ValidationError("PSI needs values on both sides")
    inner = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1))[1:-1])
    r = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=inner.size + 1) / ref.size
    c = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=inner.size + 1) / cur.size
    r, c = np.maximum(r, PSI_FLOOR), np.maximum(c, PSI_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def class_shift(reference: pd.Series, current: pd.Series, classes: Sequence[str]) -> ClassShift:
    """Class counts on both sides, a chi-square test of equal class priors, and their total variation."""
    ref = reference.astype(str).value_counts()
    cur = current.astype(str).value_counts()
    r = np.array([int(ref.get(c, 0)) for c in classes])
    k = np.array([int(cur.get(c, 0)) for c in classes])
    keep = (r + k) > 0
    p_value = None
    if keep.sum() >= 2 and r.sum() and k.sum():
        p_value = float(chi2_contingency(np.vstack([r[keep], k[keep]])).pvalue)
    tv = 0.5 * float(np.abs(r / max(r.sum(), 1) - k / max(k.sum(), 1)).sum())
    return ClassShift(
        reference=dict(zip(classes, map(int, r), strict=True)),
        current=dict(zip(classes, map(int, k), strict=True)),
        chi2_p_value=p_value,
        total_variation=tv,
    )


def adwin_batches(batches: Sequence[np.ndarray], *, delta: float = ADWIN_DELTA) -> int | None:
    """The first batch after the first (1-based) in which ADWIN detects a change, else None.

    Values are fed in arrival order as their rank in the first batch's empirical distribution
    (in [0, 1]), so the detector works on one scale for every feature whatever its units.
    """
    reference = np.sort(np.asarray(batches[0], dtype=np.float64))
    detector = ADWIN(delta=delta)  # type: ignore[no-untyped-call]
    for number, values in enumerate(batches):
        ranks = (
            np.searchsorted(reference, np.asarray(values, dtype=np.float64), side="right") / reference.size
        )
        for rank in ranks:
            detector.update(float(rank))  # type: ignore[no-untyped-call]
            if detector.drift_detected and number > 0:
                return number
    return None


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    groups: Mapping[str, Sequence[str]],
    label_column: str,
    classes: Sequence[str],
    names: tuple[str, str] = ("reference", "current"),
    fdr: float = FDR,
    stream: Sequence[pd.DataFrame] | None = None,
) -> DriftReport:
    """Shift of `current` against `reference` for every feature of `groups`, the class priors and each group.

    `stream`, when given, is the sequence of batches in arrival order (the reference's first) that
    ADWIN reads feature by feature.
    """
    if len(reference) == 0 or len(current) == 0:
        raise ValidationError("a drift report needs records on both sides")
    if not 0.0 < fdr < 1.0:
        raise ValidationError(f"the FDR level must be in (0, 1), got {fdr}")
    group_of = {f: g for g, fs in groups.items() for f in fs}
    names_ = list(group_of)
    stats = [ks_2samp(reference[f].to_numpy(float), current[f].to_numpy(float)) for f in names_]
    p_values = np.array([float(s.pvalue) for s in stats])
    q_values = false_discovery_control(p_values, method="bh") if len(p_values) else p_values
    features = []
    for f, s, p, q in zip(names_, stats, p_values, q_values, strict=True):
        batch = adwin_batches([b[f].to_numpy(float) for b in stream]) if stream else None
        features.append(
            FeatureShift(
                name=f,
                group=group_of[f],
                psi=psi(reference[f].to_numpy(float), current[f].to_numpy(float)),
                ks_statistic=float(s.statistic),
                p_value=float(p),
                q_value=float(q),
                flagged=bool(q < fdr),
                adwin_batch=batch,
            )
        )
    return DriftReport(
        reference=names[0],
        current=names[1],
        n_reference=len(reference),
        n_current=len(current),
        fdr=fdr,
        binning=BINNING,
        features=features,
        classes=class_shift(reference[label_column], current[label_column], classes),
        groups=_groups(features, groups),
    )


def _groups(features: list[FeatureShift], groups: Mapping[str, Sequence[str]]) -> list[GroupShift]:
    out = []
    for group in groups:
        members = [f for f in features if f.group == group]
        if not members:
            continue
        values = np.array([f.psi for f in members])
        out.append(
            GroupShift(
                group=group,
                n_features=len(members),
                n_flagged=sum(f.flagged for f in members),
                median_psi=float(np.median(values)),
                max_psi=float(values.max()),
                top_feature=max(members, key=lambda f: f.psi).name,
            )
        )
    return out
