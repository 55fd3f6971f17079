"""Owner-only reads and actions: run logs, weights export, the audit trail."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.errors import NotFoundError
from cohortbench.privacy import require_weights_export
from cohortbench.service.access import get_workspace, require
from cohortbench.service.platform import Platform
from cohortbench.service.submissions import get_submission
from cohortbench.store import audit
from cohortbench.store.models import AuditEntry, Run, User

if TYPE_CHECKING:
    from cohortbench.privacy.twin import SchemaTwin


def _owner_run(session: Session, actor: User, submission_id: int, phase: str) -> Run:
    submission, _workspace, role = get_submission(session, actor=actor, submission_id=submission_id)
    require(role, "owner", action="reading run logs and weights")
    run = session.scalar(select(Run).where(Run.submission_id == submission.id, Run.phase == phase))
    if run is None:
        raise NotFoundError(f"no {phase} run for submission {submission_id}")
    return run


def run_log(platform: Platform, session: Session, *, actor: User, submission_id: int, phase: str) -> str:
    """stdout, stderr and exception text of a run. Owners only: it may contain patient values."""
    run = _owner_run(session, actor, submission_id, phase)
    if not run.owner_log_artifact:
        return ""
    audit.append(
        session,
        actor=actor.name,
        action="owner.read_log",
        target=f"submission:{submission_id}/run:{phase}",
        payload={},
    )
    return platform.artifacts.path(run.owner_log_artifact).read_text(errors="replace")


def export_weights(
    platform: Platform, session: Session, *, actor: User, submission_id: int, dest: Path, reason: str
) -> Path:
    """Export fine-tuned weights (owner decision, audited). Never available to contributors."""
    run = _owner_run(session, actor, submission_id, "finetune")
    require_weights_export(role="owner")
    if not run.weights_artifact:
        raise NotFoundError(f"submission {submission_id} has no fine-tuned weights")
    platform.artifacts.get_dir(run.weights_artifact, dest)
    audit.append(
        session,
        actor=actor.name,
        action="weights.export",
        target=f"submission:{submission_id}",
        payload={"artifact": run.weights_artifact},
        reason=reason,
    )
    return dest


def workspace_audit(session: Session, *, actor: User, name: str) -> list[dict[str, Any]]:
    """Audit entries that concern one workspace (owners only)."""
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="reading the audit trail")
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target.like(f"workspace:{workspace.name}%"))
        .order_by(AuditEntry.id)
    )
    return [
        {
            "seq": e.id,
            "ts": e.ts.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "hash": e.hash,
        }
        for e in rows
    ]


def verify_audit(session: Session) -> dict[str, Any]:
    report = audit.verify(session)
    return {
        "ok": report.ok,
        "n_entries": report.n_entries,
        "head_hash": report.head_hash,
        "first_bad_seq": report.first_bad_seq,
        "problem": report.problem,
    }


def schema_twin(platform: Platform, session: Session, *, actor: User, name: str) -> SchemaTwin:
    """The schema twin of a workspace's current cohort (`SchemaTwin.from_frame`: column types, class
    shares and per-class ranges with small cells suppressed, no record). Owners only, audited: it is
    what `cohortbench check --workspace NAME` synthesises fake data from."""
    from cohortbench.cohorts.io import read_parquet
    from cohortbench.privacy.twin import SchemaTwin
    from cohortbench.service.workspaces import latest_version
    from cohortbench.service.workspaces.notes import notes_of
    from cohortbench.workspaces import apply_categories

    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="building the schema twin")
    version = latest_version(session, workspace)
    # the whole version as stored (one read): the twin is order-free, so no split and re-join copies
    frame = apply_categories(
        read_parquet(platform.artifacts.path(version.data_artifact)), notes_of(workspace).categories
    )
    twin = SchemaTwin.from_frame(
        frame,
        id_column=workspace.id_column,
        label_column=workspace.label_column,
        classes=[str(c) for c in workspace.classes],
        feature_groups=workspace.feature_groups,
    )
    order = {c: i for i, c in enumerate(frame.columns)}  # X's column order, not the groups'
    twin = replace(twin, columns=tuple(sorted(twin.columns, key=lambda c: order.get(c.name, len(order)))))
    audit.append(
        session,
        actor=actor.name,
        action="schema_twin.build",
        target=f"workspace:{workspace.name}",
        payload={"cohort_version": version.version},
    )
    return twin
