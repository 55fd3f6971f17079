"""The worker's evaluation: both phases of a submission in one sandboxed process, in order."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from cohortbench.store.models import Run
from tests.sandbox.conftest import SAME_SANDBOX, write_phase_bundle
from tests.service.conftest import Deployment


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
