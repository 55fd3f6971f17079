"""Starting and supervising the sandbox process: rlimits, wall clock, capped logs, output size.

The launcher polls instead of blocking so that it can kill on any of: wall time, logs over their cap,
output folder over its cap. Killing the bwrap process is enough: its child dies with it
(--die-with-parent) and takes the whole pid namespace along.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from cohortbench.sandbox.limits import Limits

POLL_SECONDS = 0.01
OUTPUT_CHECK_SECONDS = 0.25
MAX_OUTPUT_ENTRIES = 10_000


@dataclass
class CappedLog:
    """Drains a pipe, keeping its first `cap` bytes; `overflowed` once more arrived."""

    cap: int
    data: bytearray = field(default_factory=bytearray)
    overflowed: bool = False

    def drain(self, stream: io.BufferedReader) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            room = self.cap - len(self.data)
            self.data += chunk[: max(room, 0)]
            self.overflowed = self.overflowed or len(chunk) > room

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Exit:
    """How the process ended, and what it used (rusage of it and its reaped descendants)."""

    returncode: int
    killed_for: str | None
    wall_seconds: float
    cpu_seconds: float
    peak_memory_bytes: int
    stdout: str
    stderr: str


def rlimit_setter(limits: Limits) -> Callable[[], None]:
    """preexec_fn: the kernel limits, inherited by bwrap and everything it starts."""
    pairs = {
        resource.RLIMIT_CPU: (limits.cpu_seconds, limits.cpu_seconds + 1),
        resource.RLIMIT_AS: (limits.memory_bytes, limits.memory_bytes),
        resource.RLIMIT_NPROC: (limits.max_processes, limits.max_processes),
        resource.RLIMIT_FSIZE: (limits.max_file_bytes, limits.max_file_bytes),
        resource.RLIMIT_NOFILE: (limits.max_open_files, limits.max_open_files),
        resource.RLIMIT_CORE: (0, 0),
    }

    def apply() -> None:
        for which, pair in pairs.items():
            resource.setrlimit(which, pair)

    return apply


def output_size(root: Path) -> tuple[int, int]:
    """(total bytes, entries) under `root`, without following links."""
    total = entries = 0
    stack = [root]
    while stack and entries <= MAX_OUTPUT_ENTRIES:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                entries += 1
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    total += entry.stat(follow_symlinks=False).st_size
    return total, entries


def _reason(
    start: float, limits: Limits, logs: list[CappedLog], output_dir: Path, last: list[float]
) -> str | None:
    now = time.monotonic()
    if now - start > limits.wall_seconds:
        return "timeout"
    if any(log.overflowed for log in logs):
        return "output_too_large"
    if now - last[0] >= OUTPUT_CHECK_SECONDS:
        last[0] = now
        total, entries = output_size(output_dir)
        if total > limits.max_output_bytes + limits.max_file_bytes or entries > MAX_OUTPUT_ENTRIES:
            return "output_too_large"
    return None


def run_supervised(
    argv: list[str], limits: Limits, output_dir: Path, *, pass_fds: tuple[int, ...] = ()
) -> Exit:
    """Run argv under `limits`; kill the process group on wall time, log flood or output flood."""
    logs = [CappedLog(limits.max_log_bytes), CappedLog(limits.max_log_bytes)]
    start = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=rlimit_setter(limits),
        pass_fds=pass_fds,
        close_fds=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        threading.Thread(target=log.drain, args=(cast(io.BufferedReader, s),), daemon=True)
        for log, s in zip(logs, (proc.stdout, proc.stderr), strict=True)
    ]
    for reader in readers:
        reader.start()
    killed_for: str | None = None
    last = [start]
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        killed_for = killed_for or _reason(start, limits, logs, output_dir, last)
        if killed_for:
            _kill(proc.pid)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(POLL_SECONDS)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(timeout=2)
    return Exit(
        returncode=proc.returncode,
        killed_for=killed_for,
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_memory_bytes=usage.ru_maxrss * 1024,
        stdout=logs[0].text(),
        stderr=logs[1].text(),
    )


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
