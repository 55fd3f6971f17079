"""Kill -9 a real `cohortbench worker` while the sandbox runs a submission; a second worker finishes it once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cohortbench.service import Platform, Settings, submissions, users, workspaces
from cohortbench.store.models import Job, Result, Run, Submission
from tests.service.conftest import CLASSES, make_bundle, tiny_cohort


def _worker(data_dir: Path, db_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "COHORTBENCH_DATABASE_URL": db_url, "COHORTBENCH_BOOTSTRAP_RESAMPLES": "200"}
    env["COHORTBENCH_IMPORTANCE_REPEATS"] = "1"
    argv = [sys.executable, "-m", "cohortbench.cli", "worker", "--max-jobs", "1", "--lease-seconds", "2"]
    argv += ["--data-dir", str(data_dir)]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_until_running(platform: Platform, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with platform.session() as session:
            if session.scalar(select(func.count(Run.id)).where(Run.status == "running")):
                return
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        time.sleep(0.05)
    raise AssertionError("the worker never started a run")


@pytest.mark.sandbox
def test_killed_worker_mid_run_loses_nothing_and_duplicates_nothing(db_url: str, tmp_path: Path) -> None:
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
        )
        submission_id = submissions.submit(
            platform, session, actor=owner, workspace_name="tiny", bundle=make_bundle(tmp_path / "b")
        ).id

    first = _worker(data_dir, db_url)
    _wait_until_running(platform, first)
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL

    second = _worker(data_dir, db_url)
    output = second.communicate(timeout=300)[0].decode()
    assert second.returncode == 0, output[-3000:]

    with platform.session() as session:
        submission = session.get(Submission, submission_id)
        assert submission is not None and submission.status == "succeeded"
        runs = session.scalars(select(Run).where(Run.submission_id == submission_id)).all()
        assert {r.phase: r.status for r in runs} == {"baseline": "succeeded", "finetune": "succeeded"}
        assert session.scalar(select(func.count(Result.id))) == 2, "exactly one result per run"
        assert session.scalar(select(func.count(Submission.id))) == 1, "quota charged once"
        job = session.scalars(select(Job)).one()
        assert job.status == "succeeded" and job.attempts == 2
    # the killed worker's job folder held the holdout's features: the second worker removed it
    assert [p for p in (data_dir / "scratch").rglob("*") if p.is_file()] == []
    platform.close()
