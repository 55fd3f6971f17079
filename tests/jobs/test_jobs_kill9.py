"""Kill -9 a worker mid-run, start another: the job finishes exactly once, with one result, one
charge, and every attempt counted, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cohortbench.jobs import queue
from cohortbench.store.models import Job, Result, Run, Submission

SCRIPT = Path(__file__).with_name("kill_worker.py")
LEASE_SECONDS = 1.0


def _start_worker(db_url: str, markers: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, str(SCRIPT), db_url, str(markers), str(LEASE_SECONDS)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"worker exited early:\n{proc.stdout.read().decode() if proc.stdout else ''}")
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


@pytest.mark.parametrize("crash", ["mid-run", "after-result"])
def test_a_killed_worker_s_job_finishes_exactly_once(
    db_url: str, sessions: sessionmaker[Session], make_run: Callable[..., Run], tmp_path: Path, crash: str
) -> None:
    with sessions() as session, session.begin():
        run = make_run(session)
        job = queue.enqueue(
            session, "evaluate_run", {"run_id": run.id, "crash": crash}, idempotency_key="run:1"
        )
        run_id, job_id, submission_id = run.id, job.id, run.submission_id

    first = _start_worker(db_url, tmp_path)
    _wait_for(tmp_path / ("started-1" if crash == "mid-run" else "written-1"), first)
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    with sessions() as session:
        assert session.get_one(Job, job_id).status == "running"  # orphaned, under a lease that will expire

    second = _start_worker(db_url, tmp_path)
    output = second.communicate(timeout=60)[0].decode()
    assert second.returncode == 0, output

    with sessions() as session:
        job_row = session.get_one(Job, job_id)
        assert (job_row.status, job_row.attempts) == ("succeeded", 2)
        assert session.scalar(select(func.count()).select_from(Result).where(Result.run_id == run_id)) == 1
        run_row = session.get_one(Run, run_id)
        assert (run_row.status, run_row.attempts) == ("succeeded", 2 if crash == "mid-run" else 1)
        assert session.get_one(Submission, submission_id).compute_pflop == 1.0  # charged once
        assert session.scalar(select(func.count()).select_from(Job)) == 1
    assert (tmp_path / "written-2").exists() == (crash == "mid-run")
