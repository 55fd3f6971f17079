"""EDA of a workspace: released once per cohort version through the privacy rules, then cached.

Releasing the same aggregates again costs no privacy budget (it is post-processing of a release).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from cohortbench.privacy import release_eda
from cohortbench.service.access import get_workspace
from cohortbench.service.platform import Platform
from cohortbench.service.workspaces import latest_version
from cohortbench.store import audit
from cohortbench.store.models import User


def workspace_eda(platform: Platform, session: Session, *, actor: User, name: str) -> dict[str, Any]:
    """The workspace's released EDA aggregates (any member may read them)."""
    workspace, _role = get_workspace(session, actor, name)
    version = latest_version(session, workspace)
    cache = (workspace.settings or {}).get("eda_cache", {})
    sha = cache.get(version.sha256)
    if sha and platform.artifacts.exists(sha):
        data: dict[str, Any] = json.loads(platform.artifacts.path(sha).read_text())
        return data
    frame = pd.read_parquet(platform.artifacts.path(version.data_artifact))
    release = release_eda(
        frame,
        label_column=workspace.label_column,
        id_column=workspace.id_column,
        classes=tuple(workspace.classes),
        feature_groups={k: tuple(v) for k, v in (workspace.feature_groups or {}).items()},
    )
    data = release.to_dict()
    sha = platform.artifacts.put_bytes(json.dumps(data, sort_keys=True).encode())
    workspace.settings = {**(workspace.settings or {}), "eda_cache": {**cache, version.sha256: sha}}
    audit.append(
        session,
        actor=actor.name,
        action="release.eda",
        target=f"workspace:{name}/cohort:{version.version}",
        payload={"artifact": sha},
    )
    return data
