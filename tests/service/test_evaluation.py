"""The worker's evaluation: both phases of a submission in one sandboxed process, in order."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from cohortbench.store.models import Job, Run
from tests.sandbox.conftest import SAME_SANDBOX, write_phase_bundle
from tests.service.conftest import Deployment


@pytest.mark.sandbox
def test_both_phases_share_one_sandbox_and_train_data_comes_second(
    deployment: Deployment, tmp_path: Path
) -> None:
    alice = deployment.client("alice")
    sub = alice.submit("tiny", write_phase_bundle(tmp_path / "b", **SAME_SANDBOX))
    deployment.run_jobs()
    assert alice.wait(sub, progress=False).status == "succeeded"
    with deployment.platform.session() as session:
        runs = {r.phase: r for r in session.scalars(select(Run).where(Run.submission_id == sub.id))}
        assert runs["baseline"].status == "succeeded" and runs["finetune"].status == "succeeded"
        assert runs["finetune"].losses == {"train": [1.0]}


def _runs(deployment: Deployment, submission_id: int) -> dict[str, Run]:
    with deployment.platform.session() as session:
        return {r.phase: r for r in session.scalars(select(Run).where(Run.submission_id == submission_id))}


@pytest.mark.sandbox
def test_a_fifo_in_the_saved_weights_fails_the_finetune_with_invalid_weights(
    deployment: Deployment, tmp_path: Path
) -> None:
    """It used to block the worker for good on opening the pipe; now the run fails, the job ends."""
    alice = deployment.client("alice")
    sub = alice.submit("tiny", write_phase_bundle(tmp_path / "b", save="os.mkfifo(path / 'pipe')"))
    deployment.run_jobs()
    done = alice.wait(sub, progress=False, timeout=60)
    runs = _runs(deployment, sub.id)
    assert runs["finetune"].status == "failed" and runs["finetune"].weights_artifact is None
    assert runs["finetune"].public_error == {
        "code": "invalid_weights",
        "exc_type": None,
        "frames": [],
        "detail": None,
    }
    # the baseline was scored, so the submission succeeds (as for any failed finetune), with the code
    assert done.status == "succeeded" and done.error is not None
    assert done.error["code"] == "invalid_weights"
    with deployment.platform.session() as session:
        assert session.scalars(select(Job)).one().status == "succeeded"
    honest = alice.submit("tiny", write_phase_bundle(tmp_path / "honest"))
    deployment.run_jobs()
    assert alice.wait(honest, progress=False, timeout=60).status == "succeeded"
    assert _runs(deployment, honest.id)["finetune"].weights_artifact is not None


@pytest.mark.sandbox
def test_cancel_stops_a_running_phase_within_seconds(deployment: Deployment, tmp_path: Path) -> None:
    from cohortbench.service.worker import make_worker

    alice = deployment.client("alice")
    sub = alice.submit("tiny", write_phase_bundle(tmp_path / "b", baseline="time.sleep(600)"))
    worker = make_worker(deployment.platform, worker_id="test-worker")
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    deadline = time.monotonic() + 30
    while _runs(deployment, sub.id)["baseline"].status != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # the sandbox is up and the baseline sleeps
    alice.cancel(sub)
    cancelled_at = time.monotonic()
    thread.join(30)
    assert not thread.is_alive() and time.monotonic() - cancelled_at < 5
    runs = _runs(deployment, sub.id)
    assert alice.submission(sub).status == "cancelled"
    assert {r.status for r in runs.values()} == {"cancelled"}
    honest = alice.submit("tiny", write_phase_bundle(tmp_path / "honest"))
    deployment.run_jobs()
    assert alice.wait(honest, progress=False, timeout=60).status == "succeeded"
