"""The cohort-level parts of the EDA page: cohort table, correlation heatmap, feature-group overview.

Each works on the whole cohort or on whole classes (never below `min_cell` records) and rounds
what it shows; counts in it come only from tables already protected by `protect_counts`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cohortbench.privacy.cells import CountTable
from cohortbench.privacy.released import EXACT, ROUNDED, SUPPRESSED, WITHHELD, Released, suppressed


@dataclass(frozen=True)
class Heatmap:
    """A correlation matrix of a bounded set of features and group scores, rounded to 2 decimals."""

    labels: list[str]
    matrix: list[list[float | None]]
    n: Released
    protection: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "matrix": self.matrix,
            "n": self.n.to_dict(),
            "protection": self.protection,
        }


def cohort_table(classes: CountTable, missing: CountTable, n_features: int) -> dict[str, Released]:
    """Records, features, classes, missing values and imbalance ratio from protected tables only."""
    shown = [c for c in classes.shown_counts().values() if c > 0]
    ratio = (
        Released(round(max(shown) / min(shown), 1), ROUNDED) if len(shown) >= 2 else suppressed(SUPPRESSED)
    )
    return {
        "records": classes.total,
        "features": Released(n_features, EXACT),
        "classes": Released(len(classes.cells), EXACT),
        "missing_values": missing.total,
        "imbalance_ratio": ratio,
    }


def group_scores(frame: pd.DataFrame, feature_groups: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Per record, the mean z-score of each feature group: one column per group (stays in the workspace)."""
    out = {}
    for group, cols in feature_groups.items():
        block = frame[list(cols)].astype(np.float64)
        sd = block.std(ddof=0).replace(0.0, np.nan)
        out[f"group:{group}"] = ((block - block.mean()) / sd).mean(axis=1, skipna=True)
    return pd.DataFrame(out, index=frame.index)


def top_features(frame: pd.DataFrame, labels: pd.Series, cols: Sequence[str], k: int) -> list[str]:
    """The k features whose class means differ most (in units of the feature's sd)."""
    block = frame[list(cols)].astype(np.float64)
    sd = block.std(ddof=0).replace(0.0, np.nan)
    spread = ((block.groupby(labels.to_numpy()).mean() - block.mean()) / sd).abs().max(axis=0)
    return [str(c) for c in spread.sort_values(ascending=False, kind="stable").index[:k]]


def heatmap(frame: pd.DataFrame, columns: Sequence[str], *, min_cell: int) -> Heatmap:
    """Pearson correlations over complete rows; withheld below min_cell rows."""
    block = frame[list(columns)].astype(np.float64).dropna()
    if len(block) < min_cell:
        return Heatmap(list(columns), [], suppressed(), SUPPRESSED)
    corr = block.corr().to_numpy()
    matrix = [[None if np.isnan(v) else round(float(v), 2) for v in row] for row in corr]
    return Heatmap(list(columns), matrix, Released(len(block), EXACT), ROUNDED)


def class_profiles(
    scores: pd.DataFrame, labels: pd.Series, classes: Sequence[str], *, min_cell: int
) -> dict[str, dict[str, Released]]:
    """Mean group z-score per class (2 decimals), only for classes of at least min_cell records."""
    out: dict[str, dict[str, Released]] = {}
    for column in scores.columns:
        group = str(column).removeprefix("group:")
        out[group] = {}
        for cls in classes:
            values = scores.loc[(labels == cls).to_numpy(), column].dropna()
            out[group][cls] = (
                Released(round(float(values.mean()), 2) + 0.0, ROUNDED)
                if len(values) >= min_cell
                else suppressed()
            )
    return out


def withheld_heatmap() -> Heatmap:
    """Under differential privacy the heatmap is not released (it has no budgeted mechanism)."""
    return Heatmap([], [], suppressed(WITHHELD), WITHHELD)
