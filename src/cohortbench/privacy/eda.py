"""release_eda: every number of a workspace's EDA page, each protected and labelled with how.

Without `dp`, protection is statistical disclosure control: suppression with complementary
cells, merged histogram bins, statistics over at least `min_cell` records, trimmed and rounded
percentiles. With `dp`, counts, histograms and means get OpenDP noise charged to the ledger
(then the same suppression as post-processing) and everything without a budgeted mechanism
(standard deviations, percentiles, correlations) is withheld.

Features may have missing values and be categorical: `missing` holds each incomplete feature's
protected table of missing values per class, `categories` each categorical feature's protected
per-class counts of its public levels (rare levels merged into one "other", never named).
Statistics, histograms, the heatmap and the group overview describe the numeric features. Under
DP both new tables are withheld (no budgeted mechanism for them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cohortbench.errors import ValidationError
from cohortbench.privacy import eda_cohort as parts
from cohortbench.privacy.categories import CategoryTable, category_tables
from cohortbench.privacy.cells import CountTable, protect_counts
from cohortbench.privacy.dp import DpSession
from cohortbench.privacy.eda_dp import dp_class_table, dp_histograms, dp_query_count, dp_summaries
from cohortbench.privacy.histogram import Histogram, protected_histogram
from cohortbench.privacy.released import MIN_CELL, WITHHELD, Released
from cohortbench.privacy.stats import GroupSummary, summarize
from cohortbench.privacy.twin_columns import categorical_dtype


@dataclass(frozen=True)
class EdaRelease:
    """What the EDA page, the API and the report may show about one workspace."""

    cohort: dict[str, Released]
    class_distribution: CountTable
    summaries: dict[str, dict[str, GroupSummary]]
    histograms: dict[str, Histogram]
    heatmap: parts.Heatmap
    group_overview: dict[str, dict[str, Any]]
    mode: str
    missing: dict[str, CountTable] = field(default_factory=dict)
    categories: dict[str, CategoryTable] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "cohort": {k: v.to_dict() for k, v in self.cohort.items()},
            "class_distribution": self.class_distribution.to_dict(),
            "summaries": {f: {c: s.to_dict() for c, s in by.items()} for f, by in self.summaries.items()},
            "histograms": {f: h.to_dict() for f, h in self.histograms.items()},
            "heatmap": self.heatmap.to_dict(),
            "group_overview": {g: _overview_dict(o) for g, o in self.group_overview.items()},
            "missing": {f: t.to_dict() for f, t in self.missing.items()},
            "categories": {f: t.to_dict() for f, t in self.categories.items()},
        }


def _overview_dict(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "n_features": entry["n_features"],
        "top_features": entry["top_features"],
        "class_profile": {c: r.to_dict() for c, r in entry["class_profile"].items()},
    }


def _validate(frame: pd.DataFrame, label_column: str, feature_groups: Mapping[str, Sequence[str]]) -> None:
    missing = [
        c for c in [label_column, *(f for cols in feature_groups.values() for f in cols)] if c not in frame
    ]
    if missing:
        raise ValidationError(f"cohort frame lacks columns: {', '.join(missing[:10])}")


def _missing_tables(
    frame: pd.DataFrame, labels: pd.Series, features: Sequence[str], classes: Sequence[str], min_cell: int
) -> dict[str, CountTable]:
    """Per feature, the protected table of missing values per class."""
    isna = frame[list(features)].isna()
    by_class = isna.groupby(labels.to_numpy()).sum().reindex(list(classes), fill_value=0)
    counts = by_class.to_numpy(dtype=np.int64)
    return {
        f: protect_counts({c: int(counts[i, j]) for i, c in enumerate(classes)}, min_cell=min_cell)
        for j, f in enumerate(features)
    }


def _summaries(
    frame: pd.DataFrame,
    labels: pd.Series,
    features: Sequence[str],
    classes: CountTable,
    missing: dict[str, CountTable],
    min_cell: int,
) -> dict[str, dict[str, GroupSummary]]:
    """Per feature per class; n is shown only when both the class count and its missing cell are shown."""
    out: dict[str, dict[str, GroupSummary]] = {}
    masks = {c: (labels == c).to_numpy() for c in classes.cells}
    for f in features:
        col = frame[f].to_numpy(dtype=np.float64)
        out[f] = {
            c: summarize(
                col[mask],
                n_released=classes.cells[c].shown and missing[f].cells[c].shown,
                min_cell=min_cell,
            )
            for c, mask in masks.items()
        }
    return out


def _histograms(
    frame: pd.DataFrame,
    features: Sequence[str],
    classes: CountTable,
    missing: dict[str, CountTable],
    min_cell: int,
) -> dict[str, Histogram]:
    """Pooled histograms; withheld when their total would reveal a suppressed missing count."""
    out = {}
    for f in features:
        if classes.total.shown and missing[f].total.shown:
            out[f] = protected_histogram(frame[f].to_numpy(dtype=np.float64), min_cell=min_cell)
        else:
            out[f] = Histogram([], [], "suppressed_complement")
    return out


def _overview(
    frame: pd.DataFrame,
    labels: pd.Series,
    classes: Sequence[str],
    feature_groups: Mapping[str, Sequence[str]],
    min_cell: int,
) -> tuple[dict[str, dict[str, Any]], parts.Heatmap]:
    scores = parts.group_scores(frame, feature_groups)
    profiles = parts.class_profiles(scores, labels, classes, min_cell=min_cell)
    overview: dict[str, dict[str, Any]] = {}
    columns: list[str] = list(scores.columns)
    for group, cols in feature_groups.items():
        top = parts.top_features(frame, labels, cols, k=2)
        overview[group] = {"n_features": len(cols), "top_features": top, "class_profile": profiles[group]}
        columns += top
    joined = pd.concat([scores, frame[columns[len(scores.columns) :]]], axis=1)
    return overview, parts.heatmap(joined, columns, min_cell=min_cell)


def release_eda(
    frame: pd.DataFrame,
    *,
    label_column: str,
    id_column: str,
    classes: Sequence[str],
    feature_groups: Mapping[str, Sequence[str]],
    min_cell: int = MIN_CELL,
    dp: DpSession | None = None,
) -> EdaRelease:
    """Every released EDA number for one cohort frame (ids are never used, only dropped)."""
    _validate(frame, label_column, feature_groups)
    frame = frame.drop(columns=[id_column], errors="ignore")
    labels = frame[label_column].astype(str)
    features = [f for cols in feature_groups.values() for f in cols]
    class_list = [str(c) for c in classes]
    dtypes = dict(zip(frame.columns, frame.dtypes, strict=True))
    categorical = [f for f in features if categorical_dtype(dtypes[f])]
    numeric_groups = {g: [f for f in cols if f not in categorical] for g, cols in feature_groups.items()}
    numeric_groups = {g: cols for g, cols in numeric_groups.items() if cols}
    numeric = [f for f in features if f not in categorical]
    if dp is not None:
        return _release_dp(frame, labels, class_list, numeric_groups, min_cell, dp, len(features))
    class_table = protect_counts({c: int((labels == c).sum()) for c in class_list}, min_cell=min_cell)
    missing = _missing_tables(frame, labels, features, class_list, min_cell)
    missing_total = protect_counts({"all": int(frame[features].isna().to_numpy().sum())}, min_cell=min_cell)
    overview, heat = _overview(frame, labels, class_list, numeric_groups, min_cell)
    has_gaps = frame[features].isna().any()
    incomplete = [f for f in features if bool(has_gaps[f])]
    return EdaRelease(
        cohort=parts.cohort_table(class_table, missing_total, len(features)),
        class_distribution=class_table,
        summaries=_summaries(frame, labels, numeric, class_table, missing, min_cell),
        histograms=_histograms(frame, numeric, class_table, missing, min_cell),
        heatmap=heat,
        group_overview=overview,
        mode="disclosure_control",
        missing={f: missing[f] for f in incomplete},
        categories=category_tables(frame, labels, categorical, class_table, missing, min_cell=min_cell),
    )


def _release_dp(
    frame: pd.DataFrame,
    labels: pd.Series,
    classes: list[str],
    feature_groups: Mapping[str, Sequence[str]],
    min_cell: int,
    dp: DpSession,
    n_features: int,
) -> EdaRelease:
    """The DP release: refused as a whole, before any noise is drawn, if the budget cannot cover it."""
    features = [f for cols in feature_groups.values() for f in cols]
    bounded = [f for f in features if f in dp.public_bounds]
    cost = dp_query_count(bounded) * dp.epsilon_per_query
    dp.ledger.require(f"eda: {dp_query_count(bounded)} queries", cost)
    class_table = dp_class_table(labels, classes, dp, min_cell)
    missing = CountTable({}, Released(None, WITHHELD))
    return EdaRelease(
        cohort=parts.cohort_table(class_table, missing, n_features),
        class_distribution=class_table,
        summaries=dp_summaries(frame, labels, class_table, features, dp, min_cell),
        histograms=dp_histograms(frame, features, dp, min_cell),
        heatmap=parts.withheld_heatmap(),
        group_overview={},
        mode="differential_privacy",
    )
