"""Where a process keeps its sandbox job folders, so that a killed process leaves no cohort data behind.

A job folder holds a phase's inputs (holdout features; for the finetune, train features and labels)
while the phase runs. A worker killed with SIGKILL cannot remove it, so each process keeps its job
folders under one folder of its own, `ROOT/proc-*`, and holds an exclusive `flock` on `ROOT/proc-*.lock`
for as long as it lives. The kernel drops that lock when the process dies however it dies, so the
next process to open the same root finds the lock free and removes the folder (`sweep`). The lock
tells, not the pid: a pid can be reused, a lock cannot outlive its process.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "proc-"
LOCK = ".lock"


class Scratch:
    """This process's folder under `root`, locked while the process lives (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root = root
        self.removed = sweep(root)
        self._lock_fd, self.path = _claim(root)

    def folder(self, prefix: str) -> tempfile.TemporaryDirectory[str]:
        """A fresh job folder, removed on exit from its `with` (or by the next sweep after a kill)."""
        return tempfile.TemporaryDirectory(prefix=prefix, dir=self.path)

    def mkdtemp(self, prefix: str) -> Path:
        """A fresh folder that the caller removes (or the next sweep after a kill)."""
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.path))

    def close(self) -> None:
        """Remove this process's folder and give up its lock (a clean exit; a kill leaves it to `sweep`)."""
        if self._lock_fd < 0:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            Path(str(self.path) + LOCK).unlink()
        os.close(self._lock_fd)
        self._lock_fd = -1


def _claim(root: Path) -> tuple[int, Path]:
    """Create and lock `root/proc-*.lock`, then create its folder; retry if a sweep unlinked the file
    between our open and our lock (the lock must be on the file the name points to)."""
    while True:
        fd, name = tempfile.mkstemp(prefix=PREFIX, suffix=LOCK, dir=root)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = Path(name).stat().st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            folder = Path(name[: -len(LOCK)])
            folder.mkdir(mode=0o700, exist_ok=True)
            return fd, folder
        os.close(fd)


def sweep(root: Path) -> list[Path]:
    """Remove the folders of processes that are gone (their lock is free); return what was removed."""
    removed = []
    for lock in sorted(root.glob(f"{PREFIX}*{LOCK}")):
        try:
            fd = os.open(lock, os.O_RDWR)
        except FileNotFoundError:
            continue  # another process swept it
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive
            folder = Path(str(lock)[: -len(LOCK)])
            shutil.rmtree(folder, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
            removed.append(folder)
        finally:
            os.close(fd)
    if removed:
        log.warning("removed %d job folder(s) left by killed processes under %s", len(removed), root)
    return removed
