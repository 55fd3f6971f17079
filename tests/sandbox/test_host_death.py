"""A killed worker takes its sandbox with it: bwrap dies with its parent (--die-with-parent) and the
sandboxed interpreter exits when the host's end of its command pipe closes (DESIGN invariant 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PARENT = """
import sys
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, {root!r})
from tests.sandbox.conftest import CLASSES, TEST_LIMITS, write_bundle
from cohortbench.sandbox import RunRequest
from cohortbench.sandbox.launcher import run_in_sandbox
work = Path({work!r})
bundle = write_bundle(work / "bundle", "import time\\ntime.sleep(60)\\n")
holdout = pd.DataFrame(np.zeros((4, 3)), columns=["x1", "x2", "x3"])
request = RunRequest(phase="baseline", bundle_dir=bundle, classes=CLASSES, holdout_features=holdout, limits=TEST_LIMITS)
run_in_sandbox(request, work / "job")
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _wait_for(predicate: object, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.mark.sandbox
def test_a_worker_killed_mid_phase_leaves_no_sandbox_running(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT.format(root=str(ROOT), work=str(tmp_path))])
    try:
        sandboxed: list[int] = []

        def started() -> bool:
            for bwrap in _children(parent.pid):
                sandboxed[:] = _children(bwrap)
            return bool(sandboxed)

        assert _wait_for(started, 30), "the sandbox did not start"
        time.sleep(1.0)  # well inside the sleeping phase
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        assert _wait_for(lambda: not any(Path(f"/proc/{p}").exists() for p in sandboxed), 5), (
            "the sandboxed interpreter outlived its worker"
        )
    finally:
        parent.kill()
