"""A platform fault ends the submission too: a raising handler, or a worker killed (kill -9) on every
attempt, leaves the submission and both runs `failed` with the public code `platform_error`, in
the transaction that fails the job, and costs the contributor no submission. On SQLite and
PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, update

from cohortbench.errors import ConflictError
from cohortbench.sandbox.runs import PLATFORM_ERROR
from cohortbench.service import Platform, Settings, evaluation, settlement, submissions, users, workspaces
from cohortbench.service.worker import make_worker
from cohortbench.store import audit
from cohortbench.store.models import AuditEntry, Job, Run, Submission, User, Workspace
from cohortbench.workspaces import Rules
from tests.service.conftest import CLASSES, make_bundle, tiny_cohort

SCRIPT = Path(__file__).with_name("hanging_worker.py")
LEASE_SECONDS = 1.0
PUBLIC = {"code": PLATFORM_ERROR, "exc_type": None, "frames": [], "detail": None}


@dataclass
class Local:
    platform: Platform
    data_dir: Path
    db_url: str
    bundle: Path

    def submit(self, *, max_attempts: int | None = None) -> int:
        with self.platform.session() as session:
            owner = session.scalars(select(User).where(User.name == "owner")).one()
            submission = submissions.submit(
                self.platform, session, actor=owner, workspace_name="tiny", bundle=self.bundle
            )
            if max_attempts is not None:
                session.execute(update(Job).values(max_attempts=max_attempts))
            return submission.id

    def usage(self) -> tuple[int, float]:
        with self.platform.session() as session:
            workspace = session.scalars(select(Workspace)).one()
            owner = session.scalars(select(User).where(User.name == "owner")).one()
            return workspaces.usage(session, workspace, owner)


@pytest.fixture
def local(db_url: str, tmp_path: Path) -> Iterator[Local]:
    """A deployment on the test's database with one workspace (quota 1) and a bundle to submit."""
    data_dir = tmp_path / "data"
    platform = Platform.open(Settings(data_dir=data_dir, database_url=db_url, embedded_worker=False))
    with platform.session() as session:
        owner, _ = users.create_user(session, name="owner", is_admin=True)
        workspaces.create_workspace(
            platform,
            session,
            actor=owner,
            name="tiny",
            title="Tiny",
            frame=tiny_cohort(),
            label_column="label",
            id_column="pid",
            critical_class="high",
            classes=CLASSES,
            holdout_fraction=0.25,
            rules=Rules(quota=1),
        )
    yield Local(platform, data_dir, db_url, make_bundle(tmp_path / "bundle"))
    platform.close()


def _assert_ended_by_platform(local: Local, submission_id: int, reason: str) -> Job:
    with local.platform.session() as session:
        submission = session.get_one(Submission, submission_id)
        assert (submission.status, submission.public_error) == ("failed", PUBLIC)
        assert submission.finished_at is not None and submission.compute_pflop == 0.0
        runs = session.scalars(select(Run).where(Run.submission_id == submission_id)).all()
        assert {r.phase: (r.status, r.public_error) for r in runs} == {
            "baseline": ("failed", PUBLIC),
            "finetune": ("failed", PUBLIC),
        }
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert (last.action, last.target) == ("submission.failed", f"submission:{submission_id}")
        assert last.payload["code"] == PLATFORM_ERROR and last.payload["reason"] == reason
        assert audit.verify(session).ok
        job = session.scalars(select(Job)).one()
        assert job.status == "failed"
        return job


def _platform_faults_cost_no_submission(local: Local) -> None:
    assert local.usage() == (0, 0.0)
    local.submit()  # the quota is 1: still free
    with pytest.raises(ConflictError, match="quota"):
        local.submit()


def test_a_raising_handler_fails_the_submission_and_its_runs(
    local: Local, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("artifact 1f2e... is corrupt")  # a platform bug, not the model's

    monkeypatch.setattr(evaluation, "load_cohort", broken)
    submission_id = local.submit()
    assert make_worker(local.platform, worker_id="w").run_once()
    job = _assert_ended_by_platform(local, submission_id, "handler_error")
    assert job.attempts == 1 and "RuntimeError: artifact 1f2e... is corrupt" in (job.last_error or "")
    _platform_faults_cost_no_submission(local)


def _start(local: Local) -> subprocess.Popen[bytes]:
    argv = [sys.executable, str(SCRIPT), str(local.data_dir), local.db_url, str(LEASE_SECONDS)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for_attempt(local: Local, proc: subprocess.Popen[bytes], attempt: int) -> None:
    """Until the worker is inside the baseline phase of this attempt (blocked in the sandbox)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with local.platform.session() as session:
            run = session.scalars(select(Run).where(Run.phase == "baseline")).one()
            if (run.status, run.attempts) == ("running", attempt):
                return
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        time.sleep(0.02)
    raise AssertionError(f"attempt {attempt} never reached the sandbox")


@pytest.mark.sandbox
def test_a_worker_killed_on_every_attempt_fails_the_submission(local: Local) -> None:
    submission_id = local.submit(max_attempts=2)
    for attempt in (1, 2):
        worker = _start(local)
        _wait_for_attempt(local, worker, attempt)
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(timeout=10) == -signal.SIGKILL

    # Nothing is left to claim: the next worker's poll gives the job up, and commits it.
    survivor = make_worker(local.platform, worker_id="survivor", lease_seconds=LEASE_SECONDS)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert survivor.run_once() is False
        with local.platform.session() as session:
            if session.scalars(select(Job)).one().status != "running":
                break
        time.sleep(0.05)
    job = _assert_ended_by_platform(local, submission_id, "lease_expired")
    assert job.attempts == 2 and "lease expired" in (job.last_error or "")
    _platform_faults_cost_no_submission(local)


def test_a_platform_fault_after_a_model_error_keeps_the_model_s_code_and_counts(local: Local) -> None:
    submission_id = local.submit()
    crashed = {"code": "crashed", "exc_type": "ValueError", "frames": [], "detail": None}
    with local.platform.session() as session:
        runs = {r.phase: r for r in session.scalars(select(Run))}
        runs["baseline"].status, runs["baseline"].public_error = "failed", crashed
        runs["finetune"].status = "running"
        job = session.scalars(select(Job)).one()
        job.status = "failed"
        settlement.give_up_submission(session, job, "lease_expired")
    with local.platform.session() as session:
        submission = session.get_one(Submission, submission_id)
        assert (submission.status, submission.public_error) == ("failed", crashed)
        finetune = session.scalars(select(Run).where(Run.phase == "finetune")).one()
        assert (finetune.status, finetune.public_error) == ("failed", PUBLIC)
    assert local.usage() == (1, 0.0)  # the model's own error: it counts


def test_a_platform_fault_after_a_scored_baseline_keeps_the_score_and_counts(local: Local) -> None:
    submission_id = local.submit()
    with local.platform.session() as session:
        runs = {r.phase: r for r in session.scalars(select(Run))}
        runs["baseline"].status = "succeeded"
        job = session.scalars(select(Job)).one()
        settlement.give_up_submission(session, job, "handler_error")
        settlement.give_up_submission(session, job, "handler_error")  # a second call changes nothing
    with local.platform.session() as session:
        submission = session.get_one(Submission, submission_id)
        assert (submission.status, submission.public_error) == ("succeeded", PUBLIC)
        n_settled = len(
            session.scalars(select(AuditEntry).where(AuditEntry.action.like("submission.s%"))).all()
        )
        assert n_settled == 1
    assert local.usage() == (1, 0.0)  # a score came out: it counts


def test_a_run_cannot_claim_the_platform_s_code(tmp_path: Path) -> None:
    from cohortbench.errors import CohortbenchError
    from cohortbench.sandbox.error_json import split_error
    from cohortbench.sandbox.errors import code_for_exception

    public, _owner = split_error({"code": PLATFORM_ERROR}, tmp_path)
    assert public.code == "crashed"  # what error.json says is the contributor's to write
    assert code_for_exception(CohortbenchError("free retry?", code=PLATFORM_ERROR)) == "crashed"
