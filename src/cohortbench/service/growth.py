"""Cohort growth: the owner adds a batch of records as a new content-hashed cohort version.

By default the holdout stays fixed (the same patients, so scores on every version stay comparable
and a paired comparison is possible) and the new records join train; the owner may instead re-split
the whole cohort with the workspace's seed, and that choice and its reason go to the audit trail.
A batch that would change the workspace's schema is refused before anything is written: missing or
extra columns, no records, patient ids already in the cohort (or twice in the batch), or a label
outside the workspace's classes. The workspace is left exactly as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.errors import NotFoundError, ValidationError
from cohortbench.service.access import get_workspace, require
from cohortbench.service.platform import Platform
from cohortbench.service.workspaces import latest_version, store_version
from cohortbench.service.workspaces.notes import notes_of
from cohortbench.store import audit
from cohortbench.store.models import CohortVersion, User, Workspace
from cohortbench.workspaces import split_holdout, validate_cohort

SHOWN_IDS = 5


@dataclass(frozen=True)
class VersionView:
    """One cohort version as the owner sees it (exact class counts); release.versions cuts it down."""

    version: int
    created_at: datetime
    sha256: str
    n_records: int
    n_train: int
    n_holdout: int
    class_counts: dict[str, int]
    holdout_fixed: bool  # the same holdout patients as the version before (always True for version 1)


def grow(
    platform: Platform,
    session: Session,
    *,
    actor: User,
    name: str,
    batch: pd.DataFrame,
    resplit: bool = False,
    reason: str | None = None,
) -> CohortVersion:
    """Add `batch` as the next cohort version (owners only); nothing changes when the batch is refused."""
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="growing the cohort")
    if resplit and not (reason and reason.strip()):
        raise ValidationError(
            "a re-split changes which patients are held out: give a --reason for the audit trail"
        )
    current = latest_version(session, workspace)
    old = pd.read_parquet(platform.artifacts.path(current.data_artifact))
    batch = check_batch(batch, old, workspace, current.version)
    table = validate_cohort(
        pd.concat([old, batch[list(old.columns)]], ignore_index=True),
        id_column=workspace.id_column,
        label_column=workspace.label_column,
        classes=tuple(workspace.classes),
        holdout_fraction=current.holdout_fraction,
        categories=notes_of(workspace).categories,
    )
    if resplit:
        holdout = split_holdout(table, holdout_fraction=current.holdout_fraction, seed=current.split_seed)
    else:
        holdout = np.array(json.loads(platform.artifacts.path(current.holdout_ids_artifact).read_text()))
    version = store_version(
        platform,
        session,
        workspace,
        table,
        holdout,
        current.version + 1,
        current.split_seed,
        current.holdout_fraction,
    )
    workspace.dataset_id = version.sha256[:8]
    audit.append(
        session,
        actor=actor.name,
        action="cohort.resplit" if resplit else "cohort.grow",
        target=f"workspace:{name}/cohort:{version.version}",
        payload={
            "version": version.version,
            "previous": current.version,
            "cohort_sha256": version.sha256,
            "n_added": len(batch),
            "n_records": version.n_records,
            "n_train": version.n_train,
            "n_holdout": version.n_holdout,
            "resplit": resplit,
        },
        reason=reason.strip() if reason else None,
    )
    return version


def check_batch(batch: pd.DataFrame, old: pd.DataFrame, workspace: Workspace, version: int) -> pd.DataFrame:
    """The batch in the cohort's column order and dtypes, or a ValidationError naming what is wrong."""
    if len(batch) == 0:
        raise ValidationError("the batch has no records: nothing to add")
    missing = [c for c in old.columns if c not in batch.columns]
    extra = [c for c in batch.columns if c not in old.columns]
    if missing or extra:
        parts = [
            f"missing column(s): {_few(missing)}" if missing else "",
            f"extra column(s): {_few(extra)}" if extra else "",
        ]
        raise ValidationError(
            "the batch's columns differ from the cohort's (a schema change needs a new workspace): "
            + "; ".join(p for p in parts if p)
        )
    ids, label = workspace.id_column, workspace.label_column
    unseen = sorted(set(batch[label].dropna().astype(str)) - set(workspace.classes))
    if unseen:
        raise ValidationError(
            f"the batch has label(s) outside the workspace's classes ({', '.join(workspace.classes)}): "
            f"{_few(unseen)}"
        )
    batch_ids = batch[ids].astype(str)
    twice = sorted(set(batch_ids[batch_ids.duplicated()]))
    if twice:
        raise ValidationError(f"{len(twice)} patient id(s) appear twice in the batch: {_few(twice)}")
    known = sorted(set(batch_ids) & set(old[ids].astype(str)))
    if known:
        raise ValidationError(
            f"{len(known)} patient id(s) of the batch are already in cohort version {version}: {_few(known)}"
        )
    out = batch[list(old.columns)].copy()
    for column in old.columns:
        if out[column].dtype != old[column].dtype:
            try:
                out[column] = out[column].astype(old[column].dtype)
            except (TypeError, ValueError):
                raise ValidationError(
                    f"column {column!r} of the batch is {out[column].dtype}, the cohort's is {old[column].dtype}"
                ) from None
    return out.reset_index(drop=True)


def _few(items: list[str]) -> str:
    more = f" (+{len(items) - SHOWN_IDS} more)" if len(items) > SHOWN_IDS else ""
    return ", ".join(map(str, items[:SHOWN_IDS])) + more


def versions(platform: Platform, session: Session, workspace: Workspace) -> list[VersionView]:
    """Every cohort version of the workspace, oldest first, with exact class counts (trusted side)."""
    rows = session.scalars(
        select(CohortVersion)
        .where(CohortVersion.workspace_id == workspace.id)
        .order_by(CohortVersion.version)
    ).all()
    out, previous = [], None
    for row in rows:
        labels = pd.read_parquet(platform.artifacts.path(row.data_artifact), columns=[workspace.label_column])
        counts = labels[workspace.label_column].astype(str).value_counts()
        out.append(
            VersionView(
                version=row.version,
                created_at=row.created_at,
                sha256=row.sha256,
                n_records=row.n_records,
                n_train=row.n_train,
                n_holdout=row.n_holdout,
                class_counts={c: int(counts.get(c, 0)) for c in workspace.classes},
                holdout_fixed=previous is None or previous.holdout_ids_artifact == row.holdout_ids_artifact,
            )
        )
        previous = row
    return out


def get_version(session: Session, workspace: Workspace, number: int | None) -> CohortVersion:
    """Version `number` of the workspace (None: the latest), or NotFound naming the versions there are."""
    if number is None:
        return latest_version(session, workspace)
    row = session.scalar(
        select(CohortVersion).where(
            CohortVersion.workspace_id == workspace.id, CohortVersion.version == number
        )
    )
    if row is None:
        latest = latest_version(session, workspace).version
        raise NotFoundError(f"workspace {workspace.name!r} has cohort versions 1-{latest}, not {number}")
    return row
