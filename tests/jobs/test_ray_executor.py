"""The Ray executor on a real local Ray cluster of several nodes (one CPU each), with the sandbox.

One cluster serves the whole module (starting one costs seconds); the node-kill test runs last and
adds a node back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

import cohortbench
from cohortbench.jobs.ray_executor import RayExecutor
from cohortbench.sandbox import Limits, RunRequest
from cohortbench.service import Platform, Settings, submissions, users, workspaces
from cohortbench.service.worker import make_worker
from cohortbench.store.models import Job, Run, Submission, User, Workspace
from cohortbench.store.models import Result as ResultRow
from cohortbench.workspaces import Resources, Rules
from tests.sandbox.conftest import write_phase_bundle
from tests.service.conftest import CLASSES, tiny_cohort

pytestmark = [pytest.mark.ray, pytest.mark.sandbox, pytest.mark.slow]
GIB = 1024**3
NODE = {"num_cpus": 1, "memory": 4 * GIB}
RESOURCES = Resources(cpu=1, memory_gb=3)
LIMITS = Limits(cpu_seconds=60, wall_seconds=60, memory_bytes=3 * GIB, tmp_bytes=8 * 1024**2)
SLOW = "time.sleep(3)"  # the baseline's predict_proba: long enough to overlap, or to kill a node under


class Ray:
    def __init__(self) -> None:
        from ray.cluster_utils import Cluster

        self.cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
        self.nodes = [self.cluster.add_node(**NODE) for _ in range(2)]
        self.cluster.wait_for_nodes()
        self.executor = RayExecutor(self.cluster.address)

    def node_of_sandbox(self) -> object | None:
        """The cluster node whose Ray worker runs a sandbox's entry now (walking up from it)."""
        raylets = {n.all_processes["raylet"][0].process.pid: n for n in self.nodes}
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit() and _is_entry(proc):
                pid = int(proc.name)
                while pid > 1:
                    if pid in raylets:
                        return raylets[pid]
                    pid = _ppid(pid)
        return None


def _is_entry(proc: Path) -> bool:
    try:
        return (
            b"cohortbench.sandbox.entry" in (proc / "cmdline").read_bytes()
            and b"bwrap" not in (proc / "cmdline").read_bytes().split(b"\0")[0]
        )
    except OSError:
        return False


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 1


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Ray]:
    # the nodes' Ray workers import this checkout (a relative PYTHONPATH would not survive their cwd)
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(Path(cohortbench.__file__).resolve().parents[1])
    try:
        ray = Ray()
        yield ray
        ray.executor.close()
        ray.cluster.shutdown()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def _holdout() -> pd.DataFrame:
    return pd.DataFrame(np.random.default_rng(0).normal(size=(12, 3)), columns=["x1", "x2", "x3"])


def test_phases_spread_over_the_nodes_and_bring_their_outputs_back(tmp_path: Path, ray_cluster: Ray) -> None:
    """Two submissions at once land on the two nodes; the finetune's weights and losses come back."""
    holdout = _holdout()

    def submission(i: int) -> tuple[list[str], object, object]:
        bundle = write_phase_bundle(tmp_path / f"b{i}", baseline=SLOW, finetune="value = float(len(X))")
        base = RunRequest("baseline", bundle, ("a", "b", "c"), holdout, limits=LIMITS)
        fine = replace(base, phase="finetune", train_features=holdout, train_labels=np.arange(12) % 3)
        with ray_cluster.executor.session(bundle, tmp_path / f"w{i}", resources=RESOURCES) as box:
            first = box.run(base)
            second = box.run(fine, last=True)
        return box.nodes, first, second

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(submission, range(2)))
    firsts = {nodes[0] for nodes, _, _ in results}
    assert len(firsts) == 2, "both baselines ran on one node"
    for _nodes, base, fine in results:
        assert base.ok and fine.ok, (base.owner_log, fine.owner_log)  # type: ignore[attr-defined]
        assert base.predictions.shape == (12, 3)  # type: ignore[attr-defined]
        assert fine.losses == (12.0,)  # type: ignore[attr-defined]
        assert fine.resources.wall_seconds > 0  # type: ignore[attr-defined]
        assert (fine.weights_dir / "weights.npy").read_bytes() == b"ok"  # type: ignore[attr-defined]


def _deployment(tmp_path: Path, baseline: str = SLOW) -> tuple[Platform, int]:
    settings = Settings(
        data_dir=tmp_path / "data", bootstrap_resamples=100, importance_repeats=1, embedded_worker=False
    )
    platform = Platform.open(settings)
    with platform.session() as session:
        owner, _ = users.create_user(session, name="owner", is_admin=True)
        alice, _ = users.create_user(session, name="alice")
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
            rules=Rules(quota=3, resources=RESOURCES),
        )
        workspaces.invite(session, actor=owner, name="tiny", user_name="alice")
        bundle = write_phase_bundle(tmp_path / "bundle", baseline=baseline)
        submission = submissions.submit(platform, session, actor=alice, workspace_name="tiny", bundle=bundle)
        return platform, submission.id


def test_the_worker_command_runs_jobs_on_the_cluster(tmp_path: Path, ray_cluster: Ray) -> None:
    """`cohortbench worker --executor ray --address ...`: a submission scored from phases run on the nodes."""
    platform, submission_id = _deployment(tmp_path, baseline="pass")
    argv = [sys.executable, "-m", "cohortbench.cli", "worker", "--data-dir", str(tmp_path / "data")]
    argv += ["--executor", "ray", "--address", ray_cluster.cluster.address, "--max-jobs", "1", "--warm", "0"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    with platform.session() as session:
        submission = session.get_one(Submission, submission_id)
        assert submission.status == "succeeded", submission.public_error
        assert submission.board is not None
    platform.close()


def test_a_node_killed_mid_phase_loses_nothing_and_charges_once(tmp_path: Path, ray_cluster: Ray) -> None:
    platform, submission_id = _deployment(tmp_path)
    worker = make_worker(platform, worker_id="ray-worker", executor=ray_cluster.executor)
    ran = threading.Thread(target=worker.run_once)
    ran.start()
    deadline = time.monotonic() + 60
    node = None
    while node is None and time.monotonic() < deadline:
        node = ray_cluster.node_of_sandbox()
        time.sleep(0.1)
    assert node is not None, "no sandbox started on a node"
    ray_cluster.cluster.remove_node(node)
    ray_cluster.nodes.remove(node)  # type: ignore[arg-type]
    retried = None
    while retried is None and ran.is_alive():
        retried = ray_cluster.node_of_sandbox()
        time.sleep(0.1)
    assert retried is not None and retried is not node, "the phase was not run again on another node"
    ran.join(timeout=120)
    assert not ran.is_alive()
    ray_cluster.nodes.append(ray_cluster.cluster.add_node(**NODE))
    with platform.session() as session:
        submission = session.get_one(Submission, submission_id)
        runs = session.scalars(select(Run).where(Run.submission_id == submission_id)).all()
        job = session.scalars(select(Job)).one()
        results = session.scalar(
            select(func.count(ResultRow.id)).join(Run).where(Run.submission_id == submission_id)
        )
        workspace = session.scalars(select(Workspace)).one()
        alice = session.scalars(select(User).where(User.name == "alice")).one()
        used, _ = workspaces.usage(session, workspace, alice)
        assert submission.status == "succeeded", submission.public_error
        assert sorted((r.phase, r.status, r.attempts) for r in runs) == [
            ("baseline", "succeeded", 1),
            ("finetune", "succeeded", 1),
        ]
        assert (job.status, job.attempts) == ("succeeded", 1)
        assert results == 2, "a phase was stored twice"
        assert used == 1
    platform.close()
