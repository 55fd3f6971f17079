"""The worker's job: run a submission's baseline and finetune phases in the sandbox and score them.

Both phases share one sandbox session (one sandboxed interpreter, train data staged only after the
baseline's outcome is read back); the finetune is built after the baseline is scored and stored, so
its budget is what is left then. Idempotent by construction: a phase whose run already succeeded
(result stored) is skipped, so a job picked up again after a worker died finishes once, with no
duplicate result.

A submission ends through `_settle`, the one transition to a terminal state: from `_finish` when
the handler ran to its end, or from `give_up_submission` when the job failed for good (the handler
raised, or the worker died on every attempt), in the transaction that fails the job.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.bundles import Plan
from cohortbench.errors import CohortbenchError
from cohortbench.jobs import GiveUpReason, JobContext, RetryableError
from cohortbench.jobs.executors import Executor, LocalExecutor, PhaseRunner
from cohortbench.sandbox import PublicError, RunOutcome, RunRequest, permutation_specs
from cohortbench.sandbox.runs import CANCELLED, PLATFORM_ERROR
from cohortbench.scoring import PermutedPrediction, Result, score
from cohortbench.service import ladder
from cohortbench.service.paired_transfer import paired_transfer
from cohortbench.service.platform import Platform
from cohortbench.service.results import board_of, headline_of, limits_for
from cohortbench.service.workspace_rules import rules_of
from cohortbench.service.workspaces import load_cohort, usage
from cohortbench.store import audit
from cohortbench.store.models import CohortVersion, Job, Run, Submission, User, Workspace
from cohortbench.store.models import Result as ResultRow
from cohortbench.workspaces import to_pflop

log = logging.getLogger(__name__)
PHASES = ("baseline", "finetune")
TERMINAL = ("succeeded", "failed", "cancelled")


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
        y_holdout = _labels(holdout, workspace.label_column, tuple(workspace.classes))
    with tempfile.TemporaryDirectory(prefix="cohortbench-run-") as tmp:
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
        request = _request(
            workspace, submission, phase, box.bundle_dir, train, holdout, remaining_flop, platform
        )
    outcome = box.run(request, last=phase == PHASES[-1])
    if outcome.status == CANCELLED:
        return  # a cancel marked the submission and its runs already; a lost lease records nothing
    ctx.heartbeat()
    y_holdout = _labels(holdout, workspace.label_column, classes)
    result = (
        _score(platform, outcome, y_holdout, classes, workspace.critical_class or classes[-1])
        if outcome.ok
        else None
    )
    _store_outcome(platform, submission_id, phase, outcome, result)


#: Above this many features, permutation importance is per feature group only: one prediction of
#: the holdout per feature and repeat (20,000 for a transcriptome) would dwarf the run itself.
PER_FEATURE_IMPORTANCE_MAX = 1_000


def _request(
    workspace: Workspace,
    submission: Submission,
    phase: str,
    bundle_dir: Path,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    remaining_flop: float,
    platform: Platform,
) -> RunRequest:
    features = [c for c in holdout.columns if c not in (workspace.id_column, workspace.label_column)]
    classes = tuple(workspace.classes)
    rules = rules_of(workspace)
    return RunRequest(
        phase="finetune" if phase == "finetune" else "baseline",
        bundle_dir=bundle_dir,
        classes=classes,
        plan=Plan.from_dict(submission.plan),
        holdout_features=holdout[features],
        train_features=train[features] if phase == "finetune" else None,
        train_labels=_labels(train, workspace.label_column, classes) if phase == "finetune" else None,
        permutations=tuple(
            permutation_specs(
                workspace.feature_groups,
                repeats=platform.settings.importance_repeats,
                seed=submission.id,
                per_feature=len(features) <= PER_FEATURE_IMPORTANCE_MAX,
            )
        ),
        device=_device(rules.resources.gpu),
        budget_flop=remaining_flop,
        limits=limits_for(rules.resources),
    )


def _device(gpus: int) -> Literal["cpu", "cuda"]:
    """The GPU when the workspace grants one and this node has one; else the CPU (a job never fails for it)."""
    return "cuda" if gpus > 0 and Path("/dev/nvidia0").exists() else "cpu"


def _labels(frame: pd.DataFrame, label_column: str, classes: tuple[str, ...]) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(classes)}
    return np.array([lookup[str(v)] for v in frame[label_column]], dtype=np.int64)


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
    from sqlalchemy import select

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
        _settle(session, submission)
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
    _settle(session, submission, reason=reason)
    log.warning("submission %s ended by a platform fault (%s)", submission.id, reason)


def _settle(session: Session, submission: Submission, *, reason: GiveUpReason | None = None) -> None:
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
