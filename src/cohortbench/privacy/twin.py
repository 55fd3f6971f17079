"""The schema twin: the public description of a workspace, and fake data drawn from it.

`cohortbench check` uses the twin to run a bundle end to end without real data. Nothing in it
comes from a single patient: class shares are rounded and small classes suppressed, ranges are
trimmed 5th..95th percentiles rounded to 2 significant digits, and binary rates to 1 decimal,
each computed only over groups of at least `min_cell` records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from cohortbench.errors import ValidationError
from cohortbench.privacy.cells import protect_counts
from cohortbench.privacy.released import MIN_CELL, round_significant
from cohortbench.privacy.twin_columns import ColumnSchema, describe_column
from cohortbench.privacy.twin_draw import draw_features


class SpecLike(Protocol):
    """The parts of a CohortSpec the twin needs."""

    id_column: str
    label_column: str
    classes: tuple[str, ...]
    class_counts: tuple[int, ...]
    feature_groups: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class SchemaTwin:
    """Columns, types, classes, rounded class shares and coarse per-class ranges of a cohort."""

    id_column: str
    label_column: str
    classes: tuple[str, ...]
    label_dtype: str
    class_shares: dict[str, float | None]
    n_records: int
    columns: tuple[ColumnSchema, ...] = field(default_factory=tuple)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        id_column: str,
        label_column: str,
        classes: Sequence[str],
        feature_groups: Mapping[str, Sequence[str]],
        min_cell: int = MIN_CELL,
    ) -> SchemaTwin:
        """Describe `frame` without keeping any single record's value."""
        if label_column not in frame:
            raise ValidationError(f"cohort frame lacks the label column {label_column!r}")
        labels = frame[label_column].astype(str)
        class_list = tuple(str(c) for c in classes)
        counts = protect_counts({c: int((labels == c).sum()) for c in class_list}, min_cell=min_cell)
        n = len(frame)
        shares = {c: None if r.value is None else round(r.value / n, 2) for c, r in counts.cells.items()}
        masks = {c: (labels == c).to_numpy() for c in class_list}  # once, not once per column
        columns = tuple(
            describe_column(frame[f], masks, group=g, min_cell=min_cell)
            for g, cols in feature_groups.items()
            for f in cols
        )
        label_dtype = "int" if pd.api.types.is_integer_dtype(frame[label_column]) else "str"
        n_out = int(round_significant(n, 2))
        return cls(id_column, label_column, class_list, label_dtype, shares, n_out, columns)

    @classmethod
    def from_spec(cls, spec: SpecLike) -> SchemaTwin:
        """A twin of a reference cohort from its public spec alone (standardised feature ranges)."""
        total = sum(spec.class_counts)
        shares: dict[str, float | None] = {
            c: round(k / total, 2) for c, k in zip(spec.classes, spec.class_counts, strict=True)
        }
        columns = tuple(
            ColumnSchema(f, "float", g, {c: (-2.0, 2.0) for c in spec.classes})
            for g, cols in spec.feature_groups.items()
            for f in cols
        )
        label_dtype = "int" if all(c.isdigit() for c in spec.classes) else "str"
        return cls(
            spec.id_column, spec.label_column, tuple(spec.classes), label_dtype, shares, total, columns
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["classes"] = list(self.classes)
        data["columns"] = [c.to_dict() for c in self.columns]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SchemaTwin:
        try:
            return cls(
                id_column=str(data["id_column"]),
                label_column=str(data["label_column"]),
                classes=tuple(str(c) for c in data["classes"]),
                label_dtype=str(data["label_dtype"]),
                class_shares={
                    str(k): None if v is None else float(v) for k, v in data["class_shares"].items()
                },
                n_records=int(data["n_records"]),
                columns=tuple(ColumnSchema.from_dict(c) for c in data["columns"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"not a schema twin: {exc}") from exc

    def synthesize(self, n: int | None = None, *, seed: int = 0) -> pd.DataFrame:
        """Fake records with the twin's schema and the cohort's dtypes (privacy.twin_draw); every
        class appears when n >= the number of classes."""
        size = self.n_records if n is None else n
        if size < 1:
            raise ValidationError(f"n must be a positive integer, got {size}")
        rng = np.random.default_rng(seed)
        labels = self._draw_labels(size, rng)
        frame = draw_features(self.columns, labels, rng)
        frame.insert(0, self.label_column, labels.astype(int) if self.label_dtype == "int" else labels)
        frame.insert(0, self.id_column, [f"SYN{i:05d}" for i in range(1, size + 1)])
        return frame

    def _draw_labels(self, size: int, rng: np.random.Generator) -> np.ndarray[Any, np.dtype[np.str_]]:
        known = sum(v for v in self.class_shares.values() if v is not None)
        hidden = [c for c in self.classes if self.class_shares.get(c) is None]
        rest = max(1.0 - known, 0.01) / max(len(hidden), 1)
        p = np.array([self.class_shares.get(c) or rest for c in self.classes], dtype=np.float64)
        labels = rng.choice(np.array(self.classes), size=size, p=p / p.sum())
        if size >= len(self.classes):
            labels[rng.permutation(size)[: len(self.classes)]] = np.array(self.classes)
        return labels
