"""Re-evaluation: the owner re-runs stored bundles on another cohort version, and sees how each holds up.

A re-run is a new submission (same bundle, plan and claim) on the chosen version, queued like any
other and run in the sandbox by the worker. It belongs to the owner who asked for it (`user_id`),
so it uses the owner's quota and compute, never the contributor's, and no contributor sees it: the
leaderboard leaves re-runs out for everyone but the owner. `rerun_of` names the original.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.errors import ConflictError, ValidationError
from cohortbench.jobs import queue
from cohortbench.service.access import get_workspace, require
from cohortbench.service.growth import get_version
from cohortbench.service.submissions import EVALUATE_JOB, PHASES
from cohortbench.store import audit
from cohortbench.store.models import Run, Submission, User


def rerun(
    session: Session,
    *,
    actor: User,
    name: str,
    version: int,
    submission_ids: list[int] | None = None,
) -> list[Submission]:
    """Queue a re-run of each chosen submission (default: every succeeded one) on cohort `version`."""
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="re-running submissions")
    target = get_version(session, workspace, version)
    originals = session.scalars(
        select(Submission)
        .where(Submission.workspace_id == workspace.id, Submission.rerun_of.is_(None))
        .order_by(Submission.id)
    ).all()
    by_id = {s.id: s for s in originals}
    if submission_ids is None:
        chosen = [s for s in originals if s.status == "succeeded" and s.cohort_version_id != target.id]
    else:
        unknown = [i for i in submission_ids if i not in by_id]
        if unknown:
            raise ValidationError(
                f"not a contributor's submission to {name!r}: {', '.join(map(str, unknown))} "
                f"(choices: {', '.join(map(str, by_id)) or 'none'})"
            )
        chosen = [by_id[i] for i in dict.fromkeys(submission_ids)]
    unfinished = [s.id for s in chosen if s.status != "succeeded"]
    if unfinished:
        raise ConflictError(
            f"only succeeded submissions can be re-run; not: {', '.join(map(str, unfinished))}"
        )
    on_version = [s.id for s in chosen if s.cohort_version_id == target.id]
    done = set(
        session.scalars(
            select(Submission.rerun_of).where(
                Submission.rerun_of.in_([s.id for s in chosen]),
                Submission.cohort_version_id == target.id,
                Submission.status != "cancelled",
            )
        )
    )
    clash = sorted(set(on_version) | {i for i in done if i is not None})
    if clash:
        raise ConflictError(
            f"already evaluated on cohort version {version} (submitted or re-run there): {', '.join(map(str, clash))}"
        )
    if not chosen:
        raise ValidationError(f"no succeeded submission to re-run on cohort version {version}")
    made = [_copy(session, original, actor, target.id) for original in chosen]
    audit.append(
        session,
        actor=actor.name,
        action="submission.rerun",
        target=f"workspace:{name}/cohort:{version}",
        payload={
            "reruns": {str(o.id): m.id for o, m in zip(chosen, made, strict=True)},
            "charged_to": actor.name,
        },
    )
    return made


def _copy(session: Session, original: Submission, actor: User, version_id: int) -> Submission:
    """A new submission of the original's bundle on another version, owned (and paid for) by the owner."""
    submission = Submission(
        workspace_id=original.workspace_id,
        user_id=actor.id,
        team=None,
        cohort_version_id=version_id,
        name=original.name,
        framework=original.framework,
        bundle_sha256=original.bundle_sha256,
        manifest=dict(original.manifest or {}),
        plan=dict(original.plan or {}),
        claimed=dict(original.claimed or {}),
        status="queued",
        rerun_of=original.id,
    )
    session.add(submission)
    session.flush()
    for phase in PHASES:
        session.add(Run(submission_id=submission.id, phase=phase, status="queued", attempts=0))
    queue.enqueue(
        session, EVALUATE_JOB, {"submission_id": submission.id}, idempotency_key=f"evaluate:{submission.id}"
    )
    return submission
