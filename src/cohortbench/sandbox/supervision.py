"""What the host holds one phase to, and how the phase ended: limits, logs, output size, "done".

Shared by the supervising process (process.py) and the reading back (collect.py); no process here.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cohortbench.sandbox.limits import Limits

MAX_OUTPUT_ENTRIES = 10_000
MAX_MESSAGE_BYTES = 4096


@dataclass
class CappedLog:
    """One pipe's bytes during the current phase: the first `cap`; `overflowed` once more arrived."""

    cap: int
    data: bytearray = field(default_factory=bytearray)
    overflowed: bool = False

    def add(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        self.data += chunk[: max(room, 0)]
        self.overflowed = self.overflowed or len(chunk) > room

    def take(self) -> str:
        """This phase's text; the log starts empty for the next phase."""
        text = self.data.decode("utf-8", errors="replace")
        self.data, self.overflowed = bytearray(), False
        return text


@dataclass(frozen=True)
class Exit:
    """How a phase ended (returncode 0 for "done" from a live process) and what it used.

    cpu_seconds is the tree's CPU time during the phase (a process's first phase includes its
    start-up); peak_memory_bytes is the peak resident set of the process so far (VmHWM, or the
    reaped rusage): for a later phase of the same process it includes the earlier phases' peak.
    """

    returncode: int
    killed_for: str | None
    wall_seconds: float
    cpu_seconds: float
    peak_memory_bytes: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Phase:
    """What the host enforces during one phase: its limits (CPU already capped by the budget).

    `output_root` is the whole output folder, every phase's, held to the output cap; with
    `until_exit` (the last phase) the process is meant to exit after "done", and is killed if it
    lingers. `cancelled`, polled with the periodic checks, ends the phase at once when it says so.
    """

    seq: int
    limits: Limits
    cpu_capped: bool
    output_root: Path
    until_exit: bool
    cancelled: Callable[[], bool] | None = None


def rlimit_setter(limits: Limits, *, idle: bool = False) -> Callable[[], None]:
    """preexec_fn: the kernel limits, inherited by bwrap and everything it starts; with `idle`, the
    SCHED_IDLE policy (CPU only when nothing else wants it), for a warm sandbox while it imports."""
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
        if idle:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))

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


def done_seqs(buffer: bytearray) -> list[int]:
    """Numbers of the complete `{"done": N}` lines in `buffer`, which keeps only an unfinished tail.

    Anything else (contributor code shares the pipe) is dropped; an endless line is cut at
    MAX_MESSAGE_BYTES.
    """
    *lines, tail = bytes(buffer).split(b"\n")
    buffer[:] = tail[-MAX_MESSAGE_BYTES:]
    seqs = []
    for line in lines:
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            message = json.loads(line) if len(line) <= MAX_MESSAGE_BYTES else None
            if isinstance(message, dict) and type(message.get("done")) is int:
                seqs.append(message["done"])
    return seqs
