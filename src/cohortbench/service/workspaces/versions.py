"""A workspace's cohort versions as stored: the latest one, and its train and holdout frames."""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.cohorts.io import read_parquet
from cohortbench.errors import NotFoundError
from cohortbench.service.platform import Platform
from cohortbench.service.workspaces.notes import notes_of
from cohortbench.store.models import CohortVersion, Workspace
from cohortbench.workspaces import (
    apply_categories,
)


def latest_version(session: Session, workspace: Workspace) -> CohortVersion:
    version = session.scalar(
        select(CohortVersion)
        .where(CohortVersion.workspace_id == workspace.id)
        .order_by(CohortVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFoundError(f"workspace {workspace.name!r} has no cohort")
    return version


def load_cohort(
    platform: Platform, version: CohortVersion, workspace: Workspace
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, holdout) frames of a cohort version. Trusted side only: holdout labels are in here."""
    frame = apply_categories(
        read_parquet(platform.artifacts.path(version.data_artifact)), notes_of(workspace).categories
    )
    holdout_ids = set(json.loads(platform.artifacts.path(version.holdout_ids_artifact).read_text()))
    mask = frame[workspace.id_column].astype(str).isin(holdout_ids)
    return frame[~mask].reset_index(drop=True), frame[mask].reset_index(drop=True)
