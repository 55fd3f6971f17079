"""Owner exports of their own data: the holdout patient ids and a submission's predictions.

Owners may export their own data (DESIGN invariant 1); contributors never reach these functions
(the owner role is checked here, in the service layer, not only by the CLI), and every export is
written to the audit log with what was exported. Rows follow the holdout ids in the order the
cohort version stores them (sorted as text), so the two exports line up row by row.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.cohorts.io import save_frame
from cohortbench.errors import NotFoundError, ValidationError
from cohortbench.service.access import get_workspace, require
from cohortbench.service.platform import Platform
from cohortbench.service.submissions import get_submission
from cohortbench.service.workspaces import latest_version, load_cohort
from cohortbench.store import audit
from cohortbench.store.models import CohortVersion, Run, User, Workspace

PHASES = ("baseline", "finetune")
SUFFIXES = (".csv", ".parquet")


def check_suffix(out: Path) -> None:
    if out.suffix.lower() not in SUFFIXES:
        raise ValidationError(f"export file must end in .csv or .parquet, got {out.name!r}")


def _holdout_ids(platform: Platform, version: CohortVersion) -> list[str]:
    ids: list[str] = json.loads(platform.artifacts.path(version.holdout_ids_artifact).read_text())
    return ids


def holdout_ids(platform: Platform, session: Session, *, actor: User, name: str) -> pd.DataFrame:
    """The holdout patient ids of the workspace's current cohort version (owners; audited)."""
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="exporting the holdout ids")
    version = latest_version(session, workspace)
    ids = _holdout_ids(platform, version)
    audit.append(
        session,
        actor=actor.name,
        action="export.holdout_ids",
        target=f"workspace:{workspace.name}",
        payload={"cohort_version": version.version, "rows": len(ids)},
    )
    return pd.DataFrame({workspace.id_column: ids})


def predictions(platform: Platform, session: Session, *, actor: User, submission_id: int) -> pd.DataFrame:
    """A submission's holdout predictions (owners; audited): id, true label, and `<phase>_p_<class>`
    per scored phase, one row per holdout patient in holdout-id order."""
    submission, workspace, role = get_submission(session, actor=actor, submission_id=submission_id)
    require(role, "owner", action="exporting predictions")
    version = session.get(CohortVersion, submission.cohort_version_id)
    if version is None:
        raise NotFoundError(f"submission {submission_id} has no cohort version")
    runs = {r.phase: r for r in session.scalars(select(Run).where(Run.submission_id == submission.id))}
    scored = [p for p in PHASES if p in runs and runs[p].predictions_artifact]
    if not scored:
        raise NotFoundError(f"submission {submission_id} has no predictions (no phase was scored)")
    frame = _predictions_frame(platform, workspace, version, runs, scored)
    audit.append(
        session,
        actor=actor.name,
        action="export.predictions",
        target=f"submission:{submission_id}",
        payload={"workspace": workspace.name, "phases": scored, "rows": len(frame)},
    )
    return frame


def _predictions_frame(
    platform: Platform, workspace: Workspace, version: CohortVersion, runs: dict[str, Run], phases: list[str]
) -> pd.DataFrame:
    # The runs saw the holdout in load_cohort's order; the export follows the stored id order.
    _train, holdout = load_cohort(platform, version, workspace)
    seen = holdout[workspace.id_column].astype(str).to_numpy()
    position = {pid: i for i, pid in enumerate(seen)}
    ids = _holdout_ids(platform, version)
    order = np.array([position[pid] for pid in ids], dtype=np.int64)
    out = pd.DataFrame(
        {
            workspace.id_column: ids,
            workspace.label_column: holdout[workspace.label_column].astype(str).to_numpy()[order],
        }
    )
    for phase in phases:
        artifact = runs[phase].predictions_artifact
        assert artifact is not None
        proba = np.load(io.BytesIO(platform.artifacts.path(artifact).read_bytes()), allow_pickle=False)
        for k, cls in enumerate(workspace.classes):
            out[f"{phase}_p_{cls}"] = proba[order, k]
    return out


def write(frame: pd.DataFrame, out: Path) -> Path:
    """Write an export as CSV or Parquet, chosen by the file's suffix."""
    check_suffix(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_frame(frame, out)
    return out
