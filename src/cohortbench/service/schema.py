"""The schema twin a member may fetch: built from the released EDA, so it releases nothing new.

The owner's twin (`service.owner.schema_twin`) is computed from the cohort rows. The members' twin
is computed from the EDA release alone (`service.eda.workspace_eda`, the aggregates every member
already reads) and from the workspace's public schema (column names and numeric dtypes as stored,
feature groups, classes):
every range is a released 5th/95th percentile (or a released mean and SD) coarsened to 2
significant digits, every class share a released count over the released total. It is a function
of numbers already released, so it adds no value a member could not compute from the EDA page:
no entry in the channel budget, no new privacy charge (`tests/service/test_schema_twin.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from cohortbench.privacy.released import round_significant
from cohortbench.privacy.twin_columns import SPAN_SDS, numeric_dtype
from cohortbench.service.platform import Platform
from cohortbench.service.public import ColumnSchemaOut, SchemaTwinOut
from cohortbench.service.workspaces import latest_version
from cohortbench.store.models import Workspace

DEFAULT_RANGE = (-2.0, 2.0)
"""A feature with no released statistic at all (DP without bounds, every class suppressed): a
standardised range, as the reference cohorts' twins use."""


def _value(released: Mapping[str, Any] | None) -> float | None:
    value = (released or {}).get("value")
    return None if value is None else float(value)


def _range(summary: Mapping[str, Any]) -> tuple[float, float] | None:
    """(p5, p95) when both are released, else mean -+ half the normal 5..95 span when mean (and SD) are."""
    p5, p95 = _value(summary.get("p5")), _value(summary.get("p95"))
    if p5 is not None and p95 is not None:
        return round_significant(p5, 2), round_significant(p95, 2)
    mean, sd = _value(summary.get("mean")), _value(summary.get("sd"))
    if mean is None:
        return None
    half = (sd or 0.0) * SPAN_SDS / 2
    return round_significant(mean - half, 2), round_significant(mean + half, 2)


def _is_binary(by_class: Mapping[str, Mapping[str, Any]]) -> bool:
    """Every released percentile is 0 or 1 and every released mean a rate: a 0/1 column."""
    points = [_value(s.get(k)) for s in by_class.values() for k in ("p5", "p95")]
    shown = [p for p in points if p is not None]
    means = [m for s in by_class.values() if (m := _value(s.get("mean"))) is not None]
    return bool(shown) and set(shown) <= {0.0, 1.0} and all(0.0 <= m <= 1.0 for m in means)


def _column(
    name: str, group: str, by_class: Mapping[str, Mapping[str, Any]], classes: Sequence[str], dtype: str
) -> ColumnSchemaOut:
    if _is_binary(by_class):
        rates = {c: _value(by_class.get(c, {}).get("mean")) for c in classes}
        known = [r for r in rates.values() if r is not None]
        rate = round(sum(known) / len(known), 1) if known else 0.5
        ranges = {c: (round(r, 1), round(r, 1)) if r is not None else (rate, rate) for c, r in rates.items()}
        return ColumnSchemaOut(name=name, kind="binary", group=group, ranges=ranges, dtype=dtype)
    found = {c: _range(by_class.get(c, {})) for c in classes}
    shown = [r for r in found.values() if r is not None]
    pooled = (min(r[0] for r in shown), max(r[1] for r in shown)) if shown else DEFAULT_RANGE
    ranges = {c: r or pooled for c, r in found.items()}
    # a float drawn into an integer dtype would be rounded: only a float dtype is kept for a float
    kept = dtype if dtype.startswith("float") else ""
    return ColumnSchemaOut(name=name, kind="float", group=group, ranges=ranges, dtype=kept)


def feature_order(platform: Platform, session: Session, workspace: Workspace) -> list[str]:
    """The workspace's feature columns in the stored table's order: the order of the model's X."""
    import pyarrow.parquet as pq

    version = latest_version(session, workspace)
    names = pq.read_schema(platform.artifacts.path(version.data_artifact)).names
    return [c for c in names if c not in (workspace.id_column, workspace.label_column, "__index_level_0__")]


def feature_dtypes(platform: Platform, session: Session, workspace: Workspace) -> dict[str, str]:
    """Each numeric feature's numpy dtype in the stored table (what the bundle's X holds), by name."""
    import pyarrow.parquet as pq

    version = latest_version(session, workspace)
    empty = pq.read_schema(platform.artifacts.path(version.data_artifact)).empty_table().to_pandas()
    return {
        str(name): public_dtype(found)
        for name, dtype in empty.dtypes.items()
        if (found := numeric_dtype(dtype))
    }


def public_dtype(name: str) -> str:
    """The dtype members are told: floats and bool as stored, every integer as int64. A narrow integer
    type bounds every record's value (uint8: all within 0..255), which the released percentiles do
    not; a model given int64 in `check` reads uint8 on the real data the same way."""
    return "int64" if np.dtype(name).kind in "iu" else name


def twin_from_eda(
    workspace: Workspace,
    eda: Mapping[str, Any],
    *,
    n_records: int,
    features: Sequence[str],
    dtypes: Mapping[str, str] | None = None,
) -> SchemaTwinOut:
    """The members' twin of `workspace` from its released EDA dict (`EdaRelease.to_dict`), its record
    count (public: the card shows it), its feature columns in X's order and their numeric dtypes
    (public: the schema; `feature_dtypes`)."""
    classes = [str(c) for c in workspace.classes]
    cells = (eda.get("class_distribution") or {}).get("cells") or {}
    total = _value((eda.get("class_distribution") or {}).get("total"))
    shares: dict[str, float | None] = {}
    for c in classes:
        count = _value(cells.get(c))
        shares[c] = None if count is None or not total else round(count / total, 2)
    summaries = eda.get("summaries") or {}
    group_of = {f: g for g, cols in (workspace.feature_groups or {}).items() for f in cols}
    dtype_of = dtypes or {}
    columns = [
        _column(f, group_of.get(f, "other"), summaries.get(f) or {}, classes, dtype_of.get(f, ""))
        for f in features
    ]
    return SchemaTwinOut(
        id_column=workspace.id_column,
        label_column=workspace.label_column,
        classes=classes,
        label_dtype="int" if all(c.lstrip("-").isdigit() for c in classes) else "str",
        class_shares=shares,
        n_records=int(round_significant(n_records, 2)),
        columns=columns,
    )
