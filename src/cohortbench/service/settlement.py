"""How a submission ends: `settle` is the one transition to a terminal state, reached from
service.evaluation's `_finish` when the handler ran to its end, or from `give_up_submission` when
the job failed for good (in the transaction that fails the job).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.jobs import GiveUpReason
from cohortbench.sandbox import PublicError
from cohortbench.sandbox.runs import PLATFORM_ERROR
from cohortbench.service.board_record import board_of
from cohortbench.service.phase_request import PHASES
from cohortbench.store import audit
from cohortbench.store.models import Job, Run, Submission

log = logging.getLogger(__name__)
TERMINAL = ("succeeded", "failed", "cancelled")


def give_up_submission(session: Session, job: Job, reason: GiveUpReason) -> None:
    """Give-up hook of the `evaluate` job (in the transaction that fails the job for good).

    Nothing escapes the handler for a model's fault (those are run outcomes, stored with their
    code), so an exception, attempts used up or a worker that died on the last attempt are all
    platform faults: every run not yet ended fails with PLATFORM_ERROR, then the submission is
    settled like any other. The details stay in `jobs.last_error`, for the owner.
    """
    submission = session.get(Submission, int(job.payload["submission_id"]))
    if submission is None or submission.status in TERMINAL:
        return
    error = asdict(PublicError(PLATFORM_ERROR))
    for run in _runs(session, submission.id):
        if run.status not in TERMINAL:
            run.status, run.public_error, run.finished_at = "failed", error, datetime.now(UTC)
    settle(session, submission, reason=reason)
    log.warning("submission %s ended by a platform fault (%s)", submission.id, reason)


def settle(session: Session, submission: Submission, *, reason: GiveUpReason | None = None) -> None:
    """The one transition of a submission to a terminal state, from its (ended) runs.

    Succeeded when the baseline was scored, else failed; its public error is the first failed
    run's, in phase order (so a model's own error wins over a platform fault that came after it).
    Quota and compute follow from this state (service.workspaces.usage): a submission that failed
    with PLATFORM_ERROR ran no phase to an outcome, so it released no score, was charged no
    compute and does not count against the quota.
    """
    runs = _runs(session, submission.id)
    baseline_ok = any(r.phase == "baseline" and r.status == "succeeded" for r in runs)
    submission.status = "succeeded" if baseline_ok else "failed"
    failed = [r for r in runs if r.status == "failed"]
    submission.public_error = failed[0].public_error if failed else None
    submission.finished_at = datetime.now(UTC)
    submission.board = board_of(session, submission.id)
    payload: dict[str, Any] = {
        "runs": {r.phase: r.status for r in runs},
        "pflop": round(submission.compute_pflop, 6),
    }
    if reason is not None:
        payload |= {"code": PLATFORM_ERROR, "reason": reason}
    audit.append(
        session,
        actor="worker",
        action=f"submission.{submission.status}",
        target=f"submission:{submission.id}",
        payload=payload,
    )


def _runs(session: Session, submission_id: int) -> list[Run]:
    """The submission's runs in phase order."""
    runs = session.scalars(select(Run).where(Run.submission_id == submission_id)).all()
    return sorted(runs, key=lambda r: PHASES.index(r.phase) if r.phase in PHASES else len(PHASES))
