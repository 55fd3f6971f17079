"""Drift reports of a workspace's cohort (owner only): a batch against the cohort it joined, and a
version's holdout against its train split.

Owner-only by choice: a shift report is computed from record-level values (per-feature KS statistics
and PSI of a batch that may be small), so none of it reaches a contributor; nothing here is counted in
the channel budget. The owner reads it through the CLI, the API, the EDA page and the evidence report.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.cohorts.drift import DriftReport, drift_report
from cohortbench.errors import ValidationError
from cohortbench.service.access import get_workspace, require
from cohortbench.service.growth import get_version
from cohortbench.service.platform import Platform
from cohortbench.service.workspaces import load_cohort
from cohortbench.store.models import CohortVersion, User, Workspace


@dataclass(frozen=True)
class LatestDrift:
    """What the EDA page and the evidence report show the owner: the last batch, and the latest split."""

    batch: DriftReport | None  # None while the cohort has one version
    split: DriftReport


def between_versions(
    platform: Platform, session: Session, *, actor: User, name: str, reference: int, current: int
) -> DriftReport:
    """The records `current` added since `reference`, against all of `reference`'s (ADWIN over each batch)."""
    workspace = _owned(session, actor, name)
    if current <= reference:
        raise ValidationError(f"compare a later version with an earlier one, got {reference} -> {current}")
    rows = [get_version(session, workspace, n) for n in range(1, current + 1)]
    frames = [_frame(platform, v) for v in rows]
    batches = _batches(frames, workspace.id_column)
    ref = frames[reference - 1]
    new = pd.concat(batches[reference:], ignore_index=True)
    return drift_report(
        ref,
        new,
        groups=workspace.feature_groups or {},
        label_column=workspace.label_column,
        classes=tuple(workspace.classes),
        names=(
            f"version {reference}",
            f"added in versions {reference + 1}-{current}"
            if current > reference + 1
            else f"added in version {current}",
        ),
        stream=[pd.concat(batches[:reference], ignore_index=True), *batches[reference:]],
    )


def train_holdout(
    platform: Platform, session: Session, *, actor: User, name: str, version: int | None = None
) -> DriftReport:
    """The holdout of a version against its train split: is the held-out sample like the training one?"""
    workspace = _owned(session, actor, name)
    row = get_version(session, workspace, version)
    train, holdout = load_cohort(platform, row, workspace)
    return drift_report(
        train,
        holdout,
        groups=workspace.feature_groups or {},
        label_column=workspace.label_column,
        classes=tuple(workspace.classes),
        names=(f"train of version {row.version}", f"holdout of version {row.version}"),
    )


def latest(platform: Platform, session: Session, *, actor: User, name: str) -> LatestDrift:
    workspace = _owned(session, actor, name)
    numbers = list(
        session.scalars(select(CohortVersion.version).where(CohortVersion.workspace_id == workspace.id))
    )
    last = max(numbers)
    batch = (
        between_versions(platform, session, actor=actor, name=name, reference=last - 1, current=last)
        if last > 1
        else None
    )
    return LatestDrift(batch, train_holdout(platform, session, actor=actor, name=name, version=last))


def _owned(session: Session, actor: User, name: str) -> Workspace:
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="reading the drift report")
    return workspace


def _frame(platform: Platform, version: CohortVersion) -> pd.DataFrame:
    return pd.read_parquet(platform.artifacts.path(version.data_artifact))


def _batches(frames: list[pd.DataFrame], id_column: str) -> list[pd.DataFrame]:
    """Each version's records that the version before did not have, in arrival order."""
    out, seen = [], set[str]()
    for frame in frames:
        ids = frame[id_column].astype(str)
        out.append(frame[~ids.isin(seen)].reset_index(drop=True))
        seen |= set(ids)
    return out
