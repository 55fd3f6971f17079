"""The Ladder (Blum & Hardt 2015) as a workspace option: a new score is shown only if it beats the best.

When the owner turns on `ladder`, each succeeded submission of a contributor (or team) is compared
with their best so far on per-patient log loss of its final phase (fine-tuned, else out-of-the-box):
it is accepted, and its released numbers shown, only when the mean improvement exceeds one standard
error of the paired difference. A held submission shows no holdout-derived number at all (the release
step withholds its scores, recalls and importance), so probing the holdout with many near-identical
submissions earns one bit each. Accepted submissions are recorded in `leaderboard_releases`, every
decision in the audit log; per-patient losses are computed here and never stored.
"""

from __future__ import annotations

import io

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.privacy import ladder_decision
from cohortbench.scoring.calibration import row_log_loss
from cohortbench.service.platform import Platform
from cohortbench.service.workspaces import load_cohort
from cohortbench.service.workspaces.rules import rules_of
from cohortbench.store import audit
from cohortbench.store.models import CohortVersion, LeaderboardRelease, Run, Submission, Workspace


def contender(submission: Submission) -> str:
    """Whose best a submission competes with: the team's, else the contributor's own."""
    return f"team:{submission.team}" if submission.team else f"user:{submission.user_id}"


def decide(platform: Platform, session: Session, submission: Submission) -> None:
    """Record whether a just-succeeded submission replaces its contender's best (Ladder workspaces only)."""
    workspace = session.get(Workspace, submission.workspace_id)
    if workspace is None or not rules_of(workspace).ladder or submission.status != "succeeded":
        return
    if submission.rerun_of is not None:
        return  # the owner's re-evaluation releases nothing to a contributor
    new = _record_losses(platform, session, submission, workspace)
    if new is None:
        return
    best_row = session.scalar(
        select(LeaderboardRelease)
        .where(
            LeaderboardRelease.workspace_id == workspace.id,
            LeaderboardRelease.user_or_team == contender(submission),
        )
        .order_by(LeaderboardRelease.id.desc())
    )
    best_submission = session.get(Submission, best_row.submission_id) if best_row else None
    best = _record_losses(platform, session, best_submission, workspace) if best_submission else None
    if best is not None and best.shape != new.shape:
        best = None  # another cohort version: the new one starts a fresh ladder
    decision = ladder_decision(new.tolist(), None if best is None else best.tolist())
    if decision.accept:
        session.add(
            LeaderboardRelease(
                workspace_id=workspace.id,
                user_or_team=contender(submission),
                submission_id=submission.id,
                shown_score={"improvement": _finite(decision.improvement), "threshold": decision.threshold},
            )
        )
    audit.append(
        session,
        actor="worker",
        action="leaderboard.release" if decision.accept else "leaderboard.hold",
        target=f"workspace:{workspace.name}/submission:{submission.id}",
        payload={"improvement": _finite(decision.improvement), "threshold": decision.threshold},
    )


def accepted(session: Session, workspace: Workspace) -> set[int] | None:
    """Ids of the submissions the Ladder accepted, or None when the workspace does not run it."""
    if not rules_of(workspace).ladder:
        return None
    query = select(LeaderboardRelease.submission_id).where(LeaderboardRelease.workspace_id == workspace.id)
    return set(session.scalars(query))


def _record_losses(
    platform: Platform, session: Session, submission: Submission, workspace: Workspace
) -> np.ndarray | None:
    """Per-patient log loss of the submission's final scored phase on the holdout (trusted side)."""
    runs = session.scalars(select(Run).where(Run.submission_id == submission.id)).all()
    final = next(
        (
            r
            for phase in ("finetune", "baseline")
            for r in runs
            if r.phase == phase and r.predictions_artifact
        ),
        None,
    )
    version = session.get(CohortVersion, submission.cohort_version_id)
    if final is None or final.predictions_artifact is None or version is None:
        return None
    proba = np.load(
        io.BytesIO(platform.artifacts.path(final.predictions_artifact).read_bytes()), allow_pickle=False
    )
    _train, holdout = load_cohort(platform, version, workspace)
    lookup = {c: i for i, c in enumerate(workspace.classes)}
    y = np.array([lookup[str(v)] for v in holdout[workspace.label_column]], dtype=np.int64)
    return np.asarray(row_log_loss(y, proba), dtype=np.float64)


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None
