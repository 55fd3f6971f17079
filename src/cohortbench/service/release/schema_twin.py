"""The members' schema twin, built from released EDA and the public schema only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from cohortbench.service import workspaces
from cohortbench.service.platform import Platform
from cohortbench.service.public import (
    SchemaTwinOut,
)
from cohortbench.service.release.policy import _workspace
from cohortbench.store.models import User


def schema_twin(
    platform: Platform, session: Session, *, actor: User, name: str, eda: Mapping[str, Any]
) -> SchemaTwinOut:
    """The workspace's twin for any member, from the released EDA `eda` (service.eda.workspace_eda) and
    the public schema only (service.schema): post-processing of a release, so no channel of its own."""
    from cohortbench.service import schema

    workspace = _workspace(session, name)
    n_records = workspaces.latest_version(session, workspace).n_records
    features = schema.feature_order(platform, session, workspace)
    dtypes = schema.feature_dtypes(platform, session, workspace)
    return schema.twin_from_eda(workspace, eda, n_records=n_records, features=features, dtypes=dtypes)
