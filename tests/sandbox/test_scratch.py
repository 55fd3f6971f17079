"""A killed process's job folders (holdout features, train labels) are removed by the next process."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from cohortbench.sandbox.scratch import Scratch, sweep

HOLDER = """
import sys, time
from pathlib import Path
from cohortbench.sandbox.scratch import Scratch
scratch = Scratch(Path(sys.argv[1]))
job = scratch.mkdtemp("run-")
(job / "holdout.parquet").write_bytes(b"patient rows")
print(job, flush=True)
time.sleep(600)
"""


def _holder(root: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_process_leaves_nothing_once_the_next_one_opens(tmp_path: Path) -> None:
    proc, job = _holder(tmp_path)
    assert (job / "holdout.parquet").exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (job / "holdout.parquet").exists()  # nobody could remove it at the kill
    scratch = Scratch(tmp_path)
    assert scratch.removed == [job.parent]
    assert not job.exists() and not Path(str(job.parent) + ".lock").exists()
    assert [p for p in tmp_path.iterdir()] and all(p.name.startswith("proc-") for p in tmp_path.iterdir())
    scratch.close()
    assert list(tmp_path.iterdir()) == []


def test_a_live_process_keeps_its_folder(tmp_path: Path) -> None:
    proc, job = _holder(tmp_path)
    try:
        mine = Scratch(tmp_path)
        assert mine.removed == [] and job.exists()
        assert sweep(tmp_path) == []  # also from this process: the lock is on another open file
        with mine.folder("run-") as folder:
            assert Path(folder).parent == mine.path
        mine.close()
        assert job.exists()
    finally:
        proc.kill()
        proc.wait()
    assert sweep(tmp_path) == [job.parent]


def test_two_scratches_in_one_process_do_not_sweep_each_other(tmp_path: Path) -> None:
    first = Scratch(tmp_path)
    job = first.mkdtemp("run-")
    second = Scratch(tmp_path)
    assert second.removed == [] and job.exists()
    first.close()
    second.close()
