"""Recovery benchmark: how long a hung or cancelled bundle holds the worker after its fault.

1. Hung: a baseline whose predict_proba sleeps for good after leaving two daemons (double-forked,
   setsid; one by libc's fork, so it holds the control pipes too). Wall limit W. Measured: seconds
   from the fault (start + W) until the session's run has returned "timeout" and the session is
   closed, i.e. the pid namespace is gone and the worker could start its next job; and that no
   daemon survives.
2. Cancelled: the same bundle, with a cancel check that turns True 1 s into the phase (plus a
   random fraction of the supervision's poll). Measured: seconds from the cancel until the run has
   returned "cancelled" and the session is closed (the worker's own look at the job, every
   cancel_poll_seconds, comes before this).
3. Lingering last phase: a finetune that answers "done" but whose interpreter cannot exit (a
   non-daemon thread sleeps), against an honest finetune: seconds from the finetune's start to the
   closed session (the difference is the exit grace, then the kill).
4. The next job: an honest one-phase baseline right after each case, against one on an idle
   sandbox: nothing of the hung bundle slows it.

Run: .venv/bin/python benchmarks/recovery_bench.py [--repeats 5] [--wall 2]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import tempfile
import textwrap
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from cohortbench.sandbox import Limits, RunRequest, SandboxSession, run_in_sandbox
from cohortbench.sandbox.process import EXIT_GRACE_SECONDS, POLL_SECONDS

CLASSES = ("a", "b", "c")
MODEL = """\
import ctypes, os, threading, time
import numpy as np


def daemon(fork):
    if fork() == 0:
        os.setsid()
        if fork() == 0:
            open('/proc/self/comm', 'w').write({token!r})
            while True:
                time.sleep(1)
        os._exit(0)


class Model:
    @classmethod
    def load(cls, path):
        return cls()

    def predict_proba(self, X):
{predict}
        return np.full((len(X), 3), 1 / 3)

    def fine_tune(self, X, y, plan):
{fine_tune}
        return [1.0]

    def save(self, path):
        (path / 'w.npy').write_bytes(b'ok')
"""
HANG = "daemon(os.fork)\ndaemon(ctypes.CDLL(None).fork)\ntime.sleep(10**6)"
LINGER = "threading.Thread(target=time.sleep, args=(10**6,)).start()"


def bundle(root: Path, *, token: str = "", predict: str = "pass", fine_tune: str = "pass") -> Path:
    root.mkdir(parents=True)
    (root / "cohortbench.toml").write_text('name = "r"\nframework = "python"\nentry = "model:Model"\n')
    code = MODEL.format(
        token=token, predict=textwrap.indent(predict, " " * 8), fine_tune=textwrap.indent(fine_tune, " " * 8)
    )
    (root / "model.py").write_text(code)
    return root


def survivors(token: str) -> int:
    count = 0
    for path in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            count += path.name.isdigit() and (path / "comm").read_text().strip() == token
    return count


def requests(root: Path, limits: Limits) -> tuple[RunRequest, RunRequest]:
    holdout = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 3)), columns=["x1", "x2", "x3"])
    base = RunRequest("baseline", root, CLASSES, holdout, limits=limits)
    return base, replace(base, phase="finetune", train_features=holdout, train_labels=np.arange(50) % 3)


def hung(tmp: Path, wall: float) -> tuple[float, int]:
    """(seconds from the wall limit to the closed session, surviving daemons)."""
    token = "cb" + uuid.uuid4().hex[:12]
    base, _ = requests(bundle(tmp / "b", token=token, predict=HANG), Limits(wall_seconds=wall))
    start = time.monotonic()
    with SandboxSession(base.bundle_dir, tmp / "w") as box:
        outcome = box.run(base)
    closed = time.monotonic()
    assert outcome.status == "timeout", outcome.status
    return closed - (start + wall), survivors(token)


def cancelled(tmp: Path, delay: float) -> tuple[float, int]:
    """(seconds from the cancel, `delay` s into the phase, to the closed session, surviving daemons)."""
    token = "cb" + uuid.uuid4().hex[:12]
    base, _ = requests(bundle(tmp / "b", token=token, predict=HANG), Limits(wall_seconds=60))
    cancel, fired = threading.Event(), []

    def fire() -> None:
        time.sleep(delay)
        fired.append(time.monotonic())
        cancel.set()

    firing = threading.Thread(target=fire)
    with SandboxSession(base.bundle_dir, tmp / "w", cancelled=cancel.is_set) as box:
        firing.start()
        outcome = box.run(base)
    closed = time.monotonic()
    firing.join()
    assert outcome.status == "cancelled", outcome.status
    return closed - fired[0], survivors(token)


def finetune_seconds(tmp: Path, fine_tune: str) -> float:
    """Seconds from the finetune's start (baseline done) to its session closed."""
    base, fine = requests(bundle(tmp / "b", fine_tune=fine_tune), Limits(wall_seconds=60))
    with SandboxSession(base.bundle_dir, tmp / "w") as box:
        assert box.run(base).ok
        start = time.monotonic()
        outcome = box.run(fine, last=True)
    assert outcome.ok, outcome.status
    return time.monotonic() - start


def next_job(tmp: Path) -> float:
    """Wall seconds of an honest one-phase baseline."""
    base, _ = requests(bundle(tmp / "b"), Limits(wall_seconds=60))
    start = time.monotonic()
    assert run_in_sandbox(base, tmp / "w").ok
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--wall", type=float, default=2.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    keys = ("hung", "cancel", "linger", "finetune", "next", "idle")
    results: dict[str, list[float]] = {k: [] for k in keys}
    left, rng = 0, np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="cohortbench-recovery-") as name:
        tmp = Path(name)
        for i in range(args.repeats):
            results["idle"].append(next_job(tmp / f"idle{i}"))
            seconds, alive = hung(tmp / f"hung{i}", args.wall)
            results["hung"].append(seconds)
            results["next"].append(next_job(tmp / f"next{i}"))
            delay = 1.0 + float(rng.uniform(0, POLL_SECONDS))  # anywhere between two polls
            cancel_seconds, alive_after_cancel = cancelled(tmp / f"cancel{i}", delay)
            results["cancel"].append(cancel_seconds)
            results["linger"].append(finetune_seconds(tmp / f"linger{i}", LINGER))
            results["finetune"].append(finetune_seconds(tmp / f"finetune{i}", "pass"))
            left += alive + alive_after_cancel
    print(f"{args.repeats} repeats, wall limit {args.wall:g} s, exit grace {EXIT_GRACE_SECONDS:g} s")
    for key, label in (
        ("hung", "hung bundle: wall limit -> session closed"),
        ("cancel", "cancel -> session closed"),
        ("linger", "finetune that cannot exit: start -> closed"),
        ("finetune", "honest finetune: start -> closed"),
        ("idle", "next job (honest baseline) on an idle machine"),
        ("next", "next job right after a hung one"),
    ):
        values = results[key]
        print(f"{label:<48} median {statistics.median(values):6.2f} s   max {max(values):6.2f} s")
    print(f"daemons left alive after all runs: {left}")


if __name__ == "__main__":
    main()
