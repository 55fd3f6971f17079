"""The owner's label audit (confident learning on out-of-fold probabilities), audited, owner only.

It runs in the calling process (CLI, API or worker) on the owner's own records: the reference model
is the platform's own scikit-learn pipeline, not a contributor's code, so the sandbox is not needed
for it. Suspect ids and labels are the owner's to review and never reach a contributor; the audit
trail records that an audit ran, on which version, and how many records it flagged (not which).
"""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy.orm import Session

from cohortbench.cohorts.label_audit import LabelAudit, audit_labels
from cohortbench.service.access import get_workspace, require
from cohortbench.service.growth import get_version
from cohortbench.service.platform import Platform
from cohortbench.store import audit
from cohortbench.store.models import User


def audit_cohort(
    platform: Platform, session: Session, *, actor: User, name: str, version: int | None = None
) -> LabelAudit:
    """Suspect labels of a cohort version (default: the latest), most suspect first."""
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="auditing the labels")
    row = get_version(session, workspace, version)
    frame = pd.read_parquet(platform.artifacts.path(row.data_artifact))
    features = [c for g in (workspace.feature_groups or {}).values() for c in g]
    result = audit_labels(
        frame,
        id_column=workspace.id_column,
        label_column=workspace.label_column,
        classes=tuple(workspace.classes),
        features=features
        or [c for c in frame.columns if c not in (workspace.id_column, workspace.label_column)],
    )
    sha = platform.artifacts.put_bytes(json.dumps(result.to_dict()).encode())
    audit.append(
        session,
        actor=actor.name,
        action="labels.audit",
        target=f"workspace:{name}/cohort:{row.version}",
        payload={
            "n_records": result.n_records,
            "n_flagged": result.n_flagged,
            "artifact": sha,
            "model": result.reference_model,
        },
    )
    return result
