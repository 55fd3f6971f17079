"""The worker's job: run a submission's baseline and finetune phases in the sandbox and score them.

Both phases share one sandbox session (one sandboxed interpreter, train data staged only after the
baseline's outcome is read back); the finetune is built after the baseline is scored and stored, so
its budget is what is left then. Idempotent by construction: a phase whose run already succeeded
(result stored) is skipped, so a job picked up again after a worker died finishes once, with no
duplicate result.

A submission ends through service.settlement's `settle`, the one transition to a terminal state:
from `_finish` when the handler ran to its end, or from `give_up_submission` when the job failed for
good (the handler raised, or the worker died on every attempt), in the transaction that fails the job.
Each phase's request is built by service.phase_request.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from cohortbench.errors import CohortbenchError
from cohortbench.jobs import JobContext, RetryableError
from cohortbench.jobs.executors import Executor, LocalExecutor, PhaseRunner
from cohortbench.sandbox import RunOutcome
from cohortbench.sandbox.runs import CANCELLED
from cohortbench.scoring import PermutedPrediction, Result, score
from cohortbench.service import ladder
from cohortbench.service.board_record import headline_of
from cohortbench.service.paired_transfer import paired_transfer
from cohortbench.service.phase_request import PHASES, build_request, labels_of
from cohortbench.service.platform import Platform
from cohortbench.service.settlement import TERMINAL, settle
from cohortbench.service.workspaces import load_cohort, usage
from cohortbench.service.workspaces.rules import rules_of
from cohortbench.store import audit
from cohortbench.store.models import CohortVersion, Run, Submission, User, Workspace
from cohortbench.store.models import Result as ResultRow
from cohortbench.workspaces import to_pflop

log = logging.getLogger(__name__)


def evaluate_submission(platform: Platform, ctx: JobContext, executor: Executor | None = None) -> None:
    """Job handler for `evaluate`: baseline, then finetune, each scored on the holdout here.

    `executor` runs the phases (jobs.executors; a cold local sandbox session when None).
    """
    submission_id = int(ctx.payload["submission_id"])
    with platform.session() as session:
        submission = session.get(Submission, submission_id)
        if submission is None or submission.status in TERMINAL:
            return
        submission.status = "running"
        workspace = session.get(Workspace, submission.workspace_id)
        version = session.get(CohortVersion, submission.cohort_version_id)
        assert workspace is not None and version is not None
        train, holdout = load_cohort(platform, version, workspace)
        y_holdout = labels_of(holdout, workspace.label_column, tuple(workspace.classes))
    with platform.scratch.folder("run-") as tmp:
        bundle_dir = Path(tmp) / "bundle"
        try:
            platform.artifacts.get_dir(submission.bundle_sha256, bundle_dir)
        except OSError as exc:
            raise RetryableError(f"artifact store unavailable: {exc}") from exc
        unsafe = platform.settings.unsafe_no_sandbox
        workdir = Path(tmp) / "sandbox"
        runner = executor or LocalExecutor()
        resources = rules_of(workspace).resources
        with runner.session(
            bundle_dir, workdir, unsafe_no_sandbox=unsafe, cancelled=ctx.cancelled, resources=resources
        ) as box:
            for phase in PHASES:
                if ctx.cancelled():
                    return
                _run_phase(platform, ctx, box, submission_id, phase, train, holdout)
    if not ctx.cancelled():
        _finish(platform, submission_id, y_holdout)


def _run_phase(
    platform: Platform,
    ctx: JobContext,
    box: PhaseRunner,
    submission_id: int,
    phase: str,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
) -> None:
    """Run one phase in the session (the last one lets the process exit), score it, store it."""
    with platform.session() as session:
        submission = session.get(Submission, submission_id)
        run = _run_row(session, submission_id, phase)
        if submission is None or run.status in ("succeeded", "failed", "cancelled"):
            return
        workspace = session.get(Workspace, submission.workspace_id)
        user = session.get(User, submission.user_id)
        assert workspace is not None and user is not None
        rules = rules_of(workspace)
        _, used_pflop = usage(session, workspace, user)
        remaining_flop = max(rules.budget_pflop - used_pflop, 0.0) * 1e15
        run.status, run.started_at, run.attempts = "running", datetime.now(UTC), (run.attempts or 0) + 1
        classes = tuple(workspace.classes)
        request = build_request(
            workspace, submission, phase, box.bundle_dir, train, holdout, remaining_flop, platform
        )
    outcome = box.run(request, last=phase == PHASES[-1])
    if outcome.status == CANCELLED:
        return  # a cancel marked the submission and its runs already; a lost lease records nothing
    ctx.heartbeat()
    y_holdout = labels_of(holdout, workspace.label_column, classes)
    result = (
        _score(platform, outcome, y_holdout, classes, workspace.critical_class or classes[-1])
        if outcome.ok
        else None
    )
    _store_outcome(platform, submission_id, phase, outcome, result)


def _score(
    platform: Platform, outcome: RunOutcome, y: np.ndarray, classes: tuple[str, ...], critical: str
) -> Result:
    assert outcome.predictions is not None
    permuted = [PermutedPrediction(s.kind, s.name, s.repeat, p) for s, p in outcome.permuted]
    return score(
        y,
        outcome.predictions,
        classes=classes,
        critical_class=critical,
        n_resamples=platform.settings.bootstrap_resamples,
        permuted=permuted,
    )


def _run_row(session: Any, submission_id: int, phase: str) -> Run:

    run = session.scalar(select(Run).where(Run.submission_id == submission_id, Run.phase == phase))
    assert run is not None
    return run  # type: ignore[no-any-return]


def _store_outcome(
    platform: Platform, submission_id: int, phase: str, outcome: RunOutcome, result: Result | None
) -> None:
    """Write the run's artifacts, status and result in one transaction (the result row is unique per run)."""
    with platform.session() as session:
        submission = session.get(Submission, submission_id)
        run = _run_row(session, submission_id, phase)
        assert submission is not None
        if submission.status == "cancelled":
            run.status = "cancelled"
            return
        if submission.status in TERMINAL:
            return  # given up (lease lost on the last attempt): a late outcome does not reopen it
        run.status = "succeeded" if outcome.ok else "failed"
        run.finished_at = datetime.now(UTC)
        run.public_error = asdict(outcome.public_error) if outcome.public_error else None
        run.owner_log_artifact = platform.artifacts.put_bytes(_owner_text(outcome).encode("utf-8", "replace"))
        run.resources = {**asdict(outcome.resources), "n_parameters": outcome.n_parameters}
        run.losses = {"train": [float(v) for v in outcome.losses]}
        if outcome.predictions is not None:
            run.predictions_artifact = platform.artifacts.put_bytes(_npy(outcome.predictions))
        if outcome.weights_dir is not None and outcome.weights_dir.exists():
            run.weights_artifact = platform.artifacts.put_dir(outcome.weights_dir)
        submission.compute_pflop = float(submission.compute_pflop or 0.0) + to_pflop(outcome.resources.flop)
        if result is not None:
            session.add(ResultRow(run_id=run.id, result=result.to_dict(), headline=headline_of(result)))
        audit.append(
            session,
            actor="worker",
            action=f"run.{run.status}",
            target=f"submission:{submission_id}/run:{phase}",
            payload={"code": outcome.status, "headline": headline_of(result) if result else None},
        )


def _owner_text(outcome: RunOutcome) -> str:
    log = outcome.owner_log
    parts = [
        ("message", log.message),
        ("traceback", log.traceback),
        ("stdout", log.stdout),
        ("stderr", log.stderr),
    ]
    return "\n".join(f"== {name} ==\n{text}" for name, text in parts if text)


def _npy(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _finish(platform: Platform, submission_id: int, y_holdout: np.ndarray) -> None:
    """The handler ran both phases: settle the submission from its runs' outcomes.

    The fine-tune's paired verdict (service.paired_transfer) joins the board here, where the
    predictions and the holdout labels are at hand.
    """
    with platform.session() as session:
        submission = session.get(Submission, submission_id)
        if submission is None or submission.status in TERMINAL:
            return
        settle(session, submission)
        workspace = session.get(Workspace, submission.workspace_id)
        assert workspace is not None
        try:
            paired = paired_transfer(platform, session, submission, workspace, y_holdout)
        except (OSError, CohortbenchError) as exc:  # an unreadable artifact costs the verdict, not the run
            log.warning("submission %s: no paired transfer verdict (%s)", submission_id, exc)
            paired = None
        if paired is not None:
            submission.board = {**(submission.board or {}), "transfer": paired}
        ladder.decide(platform, session, submission)
    log.info("submission %s finished", submission_id)
