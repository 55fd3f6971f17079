"""Hostile bundles that used to hang the worker: each ends in seconds with its code, and nothing of it
survives the session (forked daemons included), so the next phase and the next session run as usual."""

from __future__ import annotations

import contextlib
import os
import textwrap
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohortbench.sandbox import PermutationSpec, RunOutcome, RunRequest, SandboxSession, run_in_sandbox
from tests.sandbox.conftest import CLASSES, TEST_LIMITS, assert_nothing_leaks, write_phase_bundle

pytestmark = pytest.mark.sandbox

#: a hang shows as a timeout at 8 s; every case here ends well before
LIMITS = replace(TEST_LIMITS, wall_seconds=8.0)
SECONDS = 5.0


def _requests(root: Path, holdout: pd.DataFrame, limits: object = LIMITS) -> tuple[RunRequest, RunRequest]:
    base = RunRequest("baseline", root, CLASSES, holdout, limits=limits)  # type: ignore[arg-type]
    train = {"train_features": holdout, "train_labels": np.arange(len(holdout)) % 3}
    return base, replace(base, phase="finetune", **train)  # type: ignore[arg-type]


def _token() -> str:
    """A process name (comm: 15 characters at most) that no other process on the machine has."""
    return "cb" + uuid.uuid4().hex[:12]


def _named(token: str) -> list[int]:
    """Pids of the live processes named `token`, as the host sees them."""
    pids = []
    for path in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if path.name.isdigit() and (path / "comm").read_text().strip() == token:
                pids.append(int(path.name))
    return pids


def _daemon(token: str, fork: str = "os.fork()") -> str:
    """Model code that leaves a double-forked, setsid daemon named `token` sleeping forever: it holds
    stdout and stderr (and, forked by `libc.fork()`, which skips Python's at-fork hooks, the control
    pipes too)."""
    # the phase returns only once the grandchild has named itself: the host freezes the whole tree
    # when the phase says "done", and a daemon frozen before its rename could not be found
    return textwrap.dedent(f"""
    import ctypes
    libc = ctypes.CDLL(None)
    named_r, named_w = os.pipe()
    if {fork} == 0:
        os.setsid()
        if {fork} == 0:
            open('/proc/self/comm', 'w').write({token!r})
            os.write(named_w, b"x")
            while True:
                time.sleep(1)
        os._exit(0)
    os.read(named_r, 1)
    """)


def _timed(run: Callable[[], RunOutcome]) -> tuple[RunOutcome, float]:
    start = time.monotonic()
    outcome = run()
    return outcome, time.monotonic() - start


def _honest_session_runs(tmp_path: Path, holdout: pd.DataFrame) -> None:
    base, fine = _requests(write_phase_bundle(tmp_path / "honest"), holdout)
    with SandboxSession(base.bundle_dir, tmp_path / "honest-work") as box:
        assert box.run(base).ok and box.run(fine, last=True).ok


# -- saved weights ---------------------------------------------------------------------------------

BAD_WEIGHTS = {
    "fifo": "os.mkfifo(path / 'pipe')",
    "symlink_to_train_data": "os.symlink('/job/input/finetune/train.parquet', path / 'train.parquet')",
    "symlink_to_a_folder": "os.symlink('/job/input', path / 'input')",
    "socket": "import socket\nsocket.socket(socket.AF_UNIX).bind(str(path / 'sock'))",
    "hard_link": "os.link(path / 'weights.npy', path / 'again.npy')",
    "fifo_deep_down": "(path / 'a' / 'b').mkdir(parents=True)\nos.mkfifo(path / 'a' / 'b' / 'pipe')",
    "weights_folder_is_a_symlink": "import shutil\nshutil.rmtree(path)\nos.symlink('/job/input/finetune', path)",
    "weights_folder_is_a_fifo": "import shutil\nshutil.rmtree(path)\nos.mkfifo(path)",
}


@pytest.mark.parametrize("save", BAD_WEIGHTS.values(), ids=BAD_WEIGHTS.keys())
def test_saved_weights_that_are_not_plain_files_are_invalid_weights(
    tmp_path: Path, holdout: pd.DataFrame, save: str
) -> None:
    _, fine = _requests(write_phase_bundle(tmp_path / "b", save=save), holdout)
    outcome, seconds = _timed(lambda: run_in_sandbox(fine, tmp_path / "w"))
    assert outcome.status == "invalid_weights", (outcome.status, outcome.owner_log)
    assert outcome.public_error is not None and outcome.public_error.code == "invalid_weights"
    assert outcome.public_error.exc_type is None and outcome.public_error.frames == ()
    assert outcome.weights_dir is None and outcome.predictions is None
    assert "saved weights refused" in outcome.owner_log.message
    assert_nothing_leaks(outcome)
    assert seconds < SECONDS
    assert not (tmp_path / "w" / "weights" / "finetune").exists(), "a partial copy was left"


def test_saved_weights_are_copied_into_a_folder_of_the_host(tmp_path: Path, holdout: pd.DataFrame) -> None:
    save = "(path / 'sub').mkdir()\n(path / 'sub' / 'head.txt').write_text('head')"
    _, fine = _requests(write_phase_bundle(tmp_path / "b", save=save), holdout)
    outcome = run_in_sandbox(fine, tmp_path / "w")
    assert outcome.ok, outcome.owner_log
    assert outcome.weights_dir == tmp_path / "w" / "weights" / "finetune"
    files = sorted(p.relative_to(outcome.weights_dir).as_posix() for p in outcome.weights_dir.rglob("*"))
    assert files == ["sub", "sub/head.txt", "weights.npy"]
    assert (outcome.weights_dir / "weights.npy").read_bytes() == b"ok"
    assert (outcome.weights_dir / "weights.npy").stat().st_uid == os.geteuid(), "not the host's copy"


def test_a_fifo_put_in_place_of_resources_json_is_never_opened(tmp_path: Path, holdout: pd.DataFrame) -> None:
    """A non-daemon thread swaps the entry's resources.json for a FIFO after the phase's "done"."""
    finetune = """
    def swap():
        target = '/job/output/finetune/resources.json'
        while not os.path.exists(target):
            time.sleep(0.001)
        time.sleep(0.05)
        os.unlink(target)
        os.mkfifo(target)
    threading.Thread(target=swap).start()
    value = 1.0
    """
    _, fine = _requests(write_phase_bundle(tmp_path / "b", finetune=finetune), holdout)
    outcome, seconds = _timed(lambda: run_in_sandbox(fine, tmp_path / "w"))
    assert outcome.ok, outcome.owner_log
    assert outcome.resources.flop_method == "estimated"
    assert seconds < SECONDS


# -- forks -----------------------------------------------------------------------------------------


def _lingering(token: str) -> dict[str, str]:
    """Model code after which the interpreter cannot exit, or leaves a process behind, by kind."""
    linger = textwrap.dedent(f"""
        def linger():
            open('/proc/self/comm', 'w').write({token!r})
            time.sleep(1000)
        """)
    return {
        "os_fork_daemon": _daemon(token, "os.fork()"),
        "libc_fork_daemon": _daemon(token, "libc.fork()"),
        "multiprocessing_child": linger
        + "import multiprocessing\nmultiprocessing.get_context('fork').Process(target=linger).start()",
        "endless_thread": "threading.Thread(target=time.sleep, args=(1000,)).start()",
    }


@pytest.mark.parametrize(
    "kind", ["os_fork_daemon", "libc_fork_daemon", "multiprocessing_child", "endless_thread"]
)
def test_what_keeps_the_last_phase_alive_neither_holds_it_nor_outlives_it(
    tmp_path: Path, holdout: pd.DataFrame, kind: str
) -> None:
    """The finetune answers "done" and its process should exit, but a child or a thread holds it."""
    token = _token()
    finetune = textwrap.dedent(_lingering(token)[kind]) + "\nvalue = 1.0"
    base, fine = _requests(write_phase_bundle(tmp_path / "b", finetune=finetune), holdout)
    with SandboxSession(base.bundle_dir, tmp_path / "w") as box:
        first = box.run(base)
        second, seconds = _timed(lambda: box.run(fine, last=True))
        assert not _named(token), "a process outlived its sandbox"
    assert first.ok and second.ok, (first.owner_log, second.owner_log)
    assert seconds < SECONDS and box.processes_started == 1


def test_a_daemon_holding_the_control_pipes_through_the_freeze_is_torn_down(
    tmp_path: Path, holdout: pd.DataFrame
) -> None:
    token = _token()
    base, fine = _requests(
        write_phase_bundle(tmp_path / "b", baseline=_daemon(token, "libc.fork()")), holdout
    )
    with SandboxSession(base.bundle_dir, tmp_path / "w") as box:
        first = box.run(base)
        assert _named(token), "the daemon was not started"
        second, seconds = _timed(lambda: box.run(fine, last=True))
        assert not _named(token), "the daemon outlived its sandbox"
    assert first.ok and second.ok, (first.owner_log, second.owner_log)
    assert seconds < SECONDS


@pytest.mark.parametrize("fork", ["os.fork()", "ctypes.CDLL(None).fork()"], ids=["os_fork", "libc_fork"])
def test_a_fork_that_returns_into_the_entry_does_not_take_the_next_phase(
    tmp_path: Path, holdout: pd.DataFrame, fork: str
) -> None:
    """The child returns from predict_proba into the entry's loop, finishes the baseline first and
    waits for the next command (libc fork: on the real control pipe) before pid 1 does."""
    baseline = f"import ctypes\nif {fork} != 0:\n    time.sleep(0.5)"
    base, fine = _requests(write_phase_bundle(tmp_path / "b", baseline=baseline), holdout)
    with SandboxSession(base.bundle_dir, tmp_path / "w") as box:
        first = box.run(base)
        second, seconds = _timed(lambda: box.run(fine, last=True))
    assert first.ok and second.ok, (first.owner_log, second.owner_log)
    assert seconds < SECONDS


def test_a_bomb_of_sleeping_forks_is_torn_down_with_the_session(
    tmp_path: Path, holdout: pd.DataFrame
) -> None:
    token = _token()
    bomb = f"""
    while True:
        try:
            pid = os.fork()
        except OSError:
            if os.getpid() == 1:
                raise
            open('/proc/self/comm', 'w').write({token!r})
            while True:
                time.sleep(1)
    """
    base, fine = _requests(write_phase_bundle(tmp_path / "b", baseline=bomb), holdout)
    with SandboxSession(base.bundle_dir, tmp_path / "w") as box:
        first, took = _timed(lambda: box.run(base))
        second = box.run(fine, last=True)
        assert not _named(token)
    assert first.status == "crashed" and first.public_error is not None
    assert first.public_error.exc_type == "BlockingIOError"
    assert second.ok, second.owner_log
    assert took < SECONDS


# -- wall clock and cancel -------------------------------------------------------------------------


def test_a_sleeping_predict_proba_is_held_to_one_wall_clock_across_the_permutations(
    tmp_path: Path, holdout: pd.DataFrame
) -> None:
    """0.25 s per holdout's worth of rows x 41 copies would be 10 s: the phase's 3 s cover them all
    (the permuted copies come in one batched call, of 40 x 12 rows)."""
    permutations = tuple(PermutationSpec("feature", "x1", ("x1",), r, r) for r in range(40))
    root = write_phase_bundle(tmp_path / "b", baseline=f"time.sleep(0.25 * len(X) / {len(holdout)})")
    base, fine = _requests(root, holdout, replace(LIMITS, wall_seconds=3.0))
    with SandboxSession(root, tmp_path / "w") as box:
        first = box.run(replace(base, permutations=permutations))
        second = box.run(replace(fine, limits=LIMITS), last=True)
    assert first.status == "timeout", first.owner_log
    assert 3.0 <= first.resources.wall_seconds < 3.0 + 2.0
    assert second.ok and box.processes_started == 2


def test_cancel_kills_a_running_phase_within_seconds(tmp_path: Path, holdout: pd.DataFrame) -> None:
    token = _token()
    cancel = threading.Event()
    root = write_phase_bundle(tmp_path / "b", baseline=_daemon(token) + "\ntime.sleep(60)")
    base, fine = _requests(root, holdout)
    with SandboxSession(root, tmp_path / "w", cancelled=cancel.is_set) as box:
        timer = threading.Timer(1.5, cancel.set)
        timer.start()
        first = box.run(base)
        after_cancel = time.monotonic()
        assert not _named(token), "the cancelled phase left a process behind"
        second = box.run(fine, last=True)
    timer.join()
    assert first.status == "cancelled" and first.public_error is None and first.predictions is None
    assert first.resources.wall_seconds < 1.5 + 1.0
    assert second.status == "cancelled" and box.processes_started == 1, "a phase started after the cancel"
    assert time.monotonic() - after_cancel < 1.0
    _honest_session_runs(tmp_path, holdout)
