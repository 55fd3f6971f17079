"""Submissions: acceptance (validated before any quota is charged), cancellation, and what each role may read."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.bundles import Plan, unpack_bundle, validate_bundle
from cohortbench.errors import ConflictError, NotFoundError, ValidationError
from cohortbench.jobs import queue
from cohortbench.service.access import get_workspace, require, role_in
from cohortbench.service.platform import Platform
from cohortbench.service.workspaces import latest_version, team_of, usage
from cohortbench.service.workspaces.rules import rules_of
from cohortbench.store import audit
from cohortbench.store.models import Job, Run, Submission, User, Workspace
from cohortbench.workspaces import check_can_submit

PHASES: tuple[str, ...] = ("baseline", "finetune")
EVALUATE_JOB = "evaluate"


def submit(
    platform: Platform,
    session: Session,
    *,
    actor: User,
    workspace_name: str,
    bundle: Path,
    plan: dict[str, Any] | None = None,
    claimed: dict[str, float] | None = None,
    today: date | None = None,
) -> Submission:
    """Accept a bundle: validate it (a bad bundle costs no quota), charge the quota, queue its evaluation."""
    workspace, role = get_workspace(session, actor, workspace_name)
    require(role, "contributor", "owner", action="submitting")
    session.execute(select(Workspace.id).where(Workspace.id == workspace.id).with_for_update())
    used, pflop = usage(session, workspace, actor)
    check_can_submit(
        rules_of(workspace), today=today or date.today(), submissions_used=used, pflop_used=pflop
    )
    with tempfile.TemporaryDirectory(prefix="cohortbench-bundle-") as tmp:
        bundle_dir = unpack_bundle(bundle, Path(tmp) / "bundle")
        manifest = validate_bundle(bundle_dir)
        final_plan = Plan.from_dict({**manifest.plan.to_dict(), **(plan or {})})
        bundle_sha = platform.artifacts.put_dir(bundle_dir)
    final_claimed = _check_claimed(claimed if claimed is not None else dict(manifest.claimed))
    submission = Submission(
        workspace_id=workspace.id,
        user_id=actor.id,
        team=team_of(session, workspace, actor),
        cohort_version_id=latest_version(session, workspace).id,
        name=manifest.name,
        framework=manifest.framework,
        bundle_sha256=bundle_sha,
        manifest={"name": manifest.name, "framework": manifest.framework, "entry": manifest.entry},
        plan=final_plan.to_dict(),
        claimed=final_claimed,
        status="queued",
    )
    session.add(submission)
    session.flush()
    for phase in PHASES:
        session.add(Run(submission_id=submission.id, phase=phase, status="queued", attempts=0))
    queue.enqueue(
        session, EVALUATE_JOB, {"submission_id": submission.id}, idempotency_key=f"evaluate:{submission.id}"
    )
    audit.append(
        session,
        actor=actor.name,
        action="submission.create",
        target=f"workspace:{workspace.name}/submission:{submission.id}",
        payload={"bundle_sha256": bundle_sha, "framework": manifest.framework, "plan": final_plan.to_dict()},
    )
    return submission


def _check_claimed(claimed: dict[str, float]) -> dict[str, float]:
    for key, value in claimed.items():
        if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
            raise ValidationError(f"claimed {key} must be a number between 0 and 1, got {value!r}")
    return {k: float(v) for k, v in claimed.items()}


def get_submission(session: Session, *, actor: User, submission_id: int) -> tuple[Submission, Workspace, str]:
    """A submission the actor may see: their own (or their team's), or any for the owner. Else not found."""
    submission = session.get(Submission, submission_id)
    workspace = session.get(Workspace, submission.workspace_id) if submission else None
    role = role_in(session, actor, workspace) if workspace else None
    if (
        submission is None
        or workspace is None
        or role is None
        or not _may_see(session, actor, role, submission)
    ):
        raise NotFoundError(f"no submission {submission_id}")
    return submission, workspace, role


def _may_see(session: Session, actor: User, role: str, submission: Submission) -> bool:
    if role == "owner" or submission.user_id == actor.id:
        return True
    workspace = session.get(Workspace, submission.workspace_id)
    team = team_of(session, workspace, actor) if workspace else None
    return team is not None and submission.team == team


def list_submissions(session: Session, *, actor: User, workspace_name: str) -> list[Submission]:
    """Owners see all submissions; others their own (and their team's)."""
    workspace, role = get_workspace(session, actor, workspace_name)
    rows = session.scalars(
        select(Submission).where(Submission.workspace_id == workspace.id).order_by(Submission.id)
    ).all()
    return [s for s in rows if _may_see(session, actor, role, s)]


def runs_of(session: Session, submission: Submission) -> list[Run]:
    return list(
        session.scalars(select(Run).where(Run.submission_id == submission.id).order_by(Run.phase.asc())).all()
    )


def cancel(session: Session, *, actor: User, submission_id: int) -> Submission:
    """Cancel a queued or running submission (its contributor or the owner)."""
    submission, workspace, role = get_submission(session, actor=actor, submission_id=submission_id)
    if role != "owner" and submission.user_id != actor.id:
        raise NotFoundError(f"no submission {submission_id}")
    if submission.status not in ("queued", "running"):
        raise ConflictError(f"submission {submission_id} is already {submission.status}")
    submission.status = "cancelled"
    submission.finished_at = datetime.now(UTC)
    for run in runs_of(session, submission):
        if run.status in ("queued", "running"):
            run.status = "cancelled"
    job = session.scalar(select(Job).where(Job.idempotency_key == f"evaluate:{submission.id}"))
    if job is not None:
        queue.cancel(session, job.id)
    audit.append(
        session,
        actor=actor.name,
        action="submission.cancel",
        target=f"workspace:{workspace.name}/submission:{submission.id}",
        payload={},
    )
    return submission
