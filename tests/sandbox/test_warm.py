"""Warm sandboxes: started ahead with the runtime imported, one submission each, same isolation."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohortbench.sandbox import SandboxSession, WarmPool, proctree
from cohortbench.sandbox.warm import WarmKey
from tests.sandbox.conftest import TEST_LIMITS, write_phase_bundle
from tests.sandbox.test_session import requests

pytestmark = pytest.mark.sandbox

#: what the first phase reports in its loss: what it sees of /job and whether numpy came preloaded
SEEN = """
seen = sorted(os.path.relpath(os.path.join(d, f), '/job') for d, _, fs in os.walk('/job') for f in fs)
value = float(len([s for s in seen if s.startswith('input/')]))
"""


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WarmPool]:
    with WarmPool(size=1, root=tmp_path_factory.mktemp("warm")) as warm:
        yield warm


def test_a_session_takes_a_warm_sandbox_that_saw_nothing_before_its_job(
    tmp_path: Path, holdout: pd.DataFrame, pool: WarmPool
) -> None:
    # the baseline proves it has no train data; the finetune counts the input files it sees: its
    # own 3 only (job.json, holdout, train, labels = 4 with the labels), nothing of the baseline's
    baseline = """
    if train_files() or os.listdir('/job/input') != ['baseline']:
        return np.tile([1.0, 0.0, 0.0], (n, 1))
    """
    bundle = write_phase_bundle(tmp_path / "b", baseline=baseline, finetune=SEEN)
    base, fine = requests(bundle, holdout)
    pool.warm(base)
    [warm] = pool._warm
    entered = warm.roots
    assert not any(entered.input_dir.iterdir()) and not any(entered.bundle_dir.iterdir())
    with SandboxSession(bundle, tmp_path / "w", pool=pool) as box:
        first = box.run(base)
        second = box.run(fine, last=True)
        assert box.warm is warm and box.processes_started == 0
        assert second.weights_dir is not None and second.weights_dir.is_relative_to(warm.workdir)
    assert first.ok and second.ok, (first.owner_log, second.owner_log)
    assert first.predictions is not None and np.allclose(first.predictions, 1 / 3), "baseline saw train data"
    assert second.losses == (4.0,), "the finetune saw more than its own inputs"
    assert not warm.workdir.exists(), "a used sandbox's folders outlived its session"
    assert not warm.running.process.alive
    assert not (tmp_path / "w").exists()
    assert pool.warm_count() == 1, "no fresh sandbox was warmed for the next submission"


def test_a_warm_sandbox_serves_one_submission_only(
    tmp_path: Path, holdout: pd.DataFrame, pool: WarmPool
) -> None:
    """A file the first submission leaves in its private /tmp is not there for the next: fresh process."""
    leave = "open('/tmp/left', 'w').write('x')\nvalue = 1.0"
    find = "value = float(os.path.exists('/tmp/left'))"
    uids = []
    for name, finetune in (("one", leave), ("two", find)):
        bundle = write_phase_bundle(tmp_path / name, finetune=finetune)
        base, fine = requests(bundle, holdout)
        pool.warm(base)
        with SandboxSession(bundle, tmp_path / f"w{name}", pool=pool) as box:
            assert box.run(base).ok
            outcome = box.run(fine, last=True)
            assert box.warm is not None
            uids.append(box.warm.running.uid)
        assert outcome.ok, outcome.owner_log
    assert outcome.losses == (0.0,), "the second submission found the first one's file"
    assert uids[0] != uids[1]


def test_the_import_time_is_not_the_contributors(
    tmp_path: Path, holdout: pd.DataFrame, pool: WarmPool
) -> None:
    """A warm sandbox's clock and CPU start at the hand-over: its first phase costs less than a cold one."""
    bundle = write_phase_bundle(tmp_path / "b")
    base, _ = requests(bundle, holdout)
    with SandboxSession(bundle, tmp_path / "cold") as box:
        cold = box.run(base, last=True)
    pool.warm(base)
    [warm] = pool._warm
    _settled(warm.running.process.proc.pid)
    with SandboxSession(bundle, tmp_path / "hot", pool=pool) as box:
        hot = box.run(base, last=True)
    assert cold.ok and hot.ok
    assert hot.resources.cpu_seconds < cold.resources.cpu_seconds
    assert hot.resources.wall_seconds < cold.resources.wall_seconds


def _settled(pid: int) -> None:
    """Wait until the warm sandbox's CPU time stops growing: its imports are done."""
    last = -1.0
    while (now := proctree.cpu_seconds(proctree.tree(pid))) != last:
        last = now
        time.sleep(0.5)


def test_a_request_of_another_kind_starts_cold_and_warms_its_kind(
    tmp_path: Path, holdout: pd.DataFrame
) -> None:
    bundle = write_phase_bundle(tmp_path / "b")
    base, _ = requests(bundle, holdout)
    other = replace(base, limits=replace(TEST_LIMITS, memory_bytes=TEST_LIMITS.memory_bytes // 2))
    with WarmPool(size=1, root=tmp_path / "pool") as pool:
        pool.warm(other)
        with SandboxSession(bundle, tmp_path / "w", pool=pool) as box:
            assert box.run(base, last=True).ok
            assert box.warm is None and box.processes_started == 1
        assert [w.key for w in pool._warm] == [WarmKey.of(base)], "the pool did not learn the new kind"
    assert not any((tmp_path / "pool").iterdir()), "close() left folders behind"


HOLDER = """
import sys
from cohortbench.sandbox import WarmPool
pool = WarmPool(1)
(pool.root / "box-leftover").mkdir()
print(pool.root, flush=True)
sys.stdin.read()  # hold the pool until killed
"""


def _holder(tmp: Path) -> tuple[subprocess.Popen[str], Path]:
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_new_pool_removes_the_folder_of_a_worker_killed_with_sigkill_and_keeps_a_live_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    killed, killed_root = _holder(tmp_path)
    live, live_root = _holder(tmp_path)
    unnamed = tmp_path / "cohortbench-warm-abcd1234"  # an owner it cannot tell: kept
    unnamed.mkdir()
    try:
        killed.kill()  # SIGKILL: no close(), the folder stays behind
        killed.wait()
        assert killed_root.parent == tmp_path and (killed_root / "box-leftover").is_dir()
        with WarmPool(1) as pool:
            assert not killed_root.exists(), "the dead worker's pool folder is still there"
            assert (live_root / "box-leftover").is_dir(), "a live worker's pool folder was removed"
            assert unnamed.is_dir() and pool.root.is_dir()
    finally:
        live.kill()
        live.wait()
