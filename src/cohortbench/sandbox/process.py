"""Starting and supervising the sandbox process, one phase at a time: rlimits, pipes, per-phase limits.

One process serves the phases of a session in turn. For each phase the host writes a command on the
control pipe and supervises until the entry answers "done" with the command's number on the done
pipe (or the process exits). It wakes on pipe activity and on the process's exit (a pidfd), and every
POLL_SECONDS checks: the caller's cancel check, wall time since the phase started (which covers
everything the phase does: loading, fine-tuning and every permuted prediction), CPU time of the
process tree (proctree) against the phase's cap, the output folder against its cap; logs over their
cap are seen as they arrive. Any of them kills the tree. After "done" the tree is frozen (SIGSTOP)
until the next phase, so what the host reads back cannot change while it reads; after the last
phase's "done" the process gets EXIT_GRACE_SECONDS to exit by itself (its exit status counts), then
it is killed (a non-daemon thread or a forked child may hold it).

The host never waits for end-of-file on a pipe: forked children share every descriptor of the entry
(stdout, stderr, the control pipes), so only "done", the exit of bwrap (pidfd) and the clock end a
phase, and the logs left after an exit are drained for DRAIN_SECONDS at most.

The kernel rlimits, set once when the process starts, are a backstop sized by the caller for every
phase the process may serve. Killing bwrap is enough: its child, the entry, is pid 1 of the sandbox's
pid namespace (--unshare-pid --as-pid-1) and dies with it (--die-with-parent), and when pid 1 of a
namespace dies the kernel kills every other process in it, so no fork, daemon or double-forked orphan
outlives a kill. The host SIGKILLs every process of the tree it can see (bwrap included, which dies
at once) and then waits on their pidfds: the sandbox's pid 1 exits only once the kernel has emptied
its namespace, so when a kill returns nothing of the sandbox runs any more.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import resource
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

from cohortbench.sandbox import proctree
from cohortbench.sandbox.limits import Limits
from cohortbench.sandbox.runs import CANCELLED
from cohortbench.sandbox.supervision import (
    MAX_OUTPUT_ENTRIES,
    CappedLog,
    Exit,
    Phase,
    done_seqs,
    output_size,
    rlimit_setter,
)

log = logging.getLogger(__name__)
POLL_SECONDS = 0.25
EXIT_GRACE_SECONDS = 1.0
#: how long a kill may take to empty the pid namespace before the host stops waiting (it never has)
TEARDOWN_SECONDS = 5.0
READ_CHUNK = 65536
DRAIN_SECONDS = 2.0
#: the "done" number of a warm process that has imported (entry.READY), and how long a session that
#: takes one still importing waits for it before its first phase's clock starts regardless
READY = 0
READY_SECONDS = 60.0
#: builds the argv from the child's ends of the control pipes: (command read fd, done write fd)
ArgvBuilder = Callable[[int, int], list[str]]


class SandboxProcess:
    """One started sandbox process (bwrap, or the bare entry in unsafe mode) and its pipes."""

    def __init__(
        self, argv_for: ArgvBuilder, rlimits: Limits, *, pass_fds: tuple[int, ...] = (), idle: bool = False
    ) -> None:
        command_r, self._command = os.pipe()
        self._done, done_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                argv_for(command_r, done_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=rlimit_setter(rlimits, idle=idle),
                pass_fds=(*pass_fds, command_r, done_w),
                close_fds=True,
            )
        finally:
            os.close(command_r)
            os.close(done_w)
        self.started = time.monotonic()
        self.rlimits = rlimits
        self.idle = idle
        self.cpu_used = 0.0  # tree CPU at the end of the last phase served
        self.phases = 0
        self.returncode: int | None = None
        self._peak, self._last_cpu = 0, 0.0
        self._dying: list[int] = []  # pidfds of the killed tree, until it is gone
        self._usage: resource.struct_rusage | None = None
        self._message = bytearray()
        self._ready = False
        self._pidfd = os.pidfd_open(self.proc.pid)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._logs = {
            s.fileno(): CappedLog(rlimits.max_log_bytes) for s in (self.proc.stdout, self.proc.stderr)
        }
        self._selector = selectors.DefaultSelector()
        os.set_blocking(self._command, False)  # a command never waits on a reader
        for fd in (*self._logs, self._done, self._pidfd):
            os.set_blocking(fd, False)
            self._selector.register(fd, selectors.EVENT_READ)

    @property
    def alive(self) -> bool:
        return self._reap(block=False) is None

    def hand_over(self) -> None:
        """A warm process gets its first phase: back to the normal scheduling policy if it imported
        under SCHED_IDLE (its nice value is the host's, as a cold one's); its clock starts now, and
        the CPU its imports used so far is not the phase's (nor the contributor's): it waits until
        the imports are done (wait_ready) before starting the clock."""
        if self.idle:
            proctree.set_policy(self.proc.pid, os.SCHED_OTHER)
            self.idle = False
        self.wait_ready(READY_SECONDS)
        self.started = time.monotonic()
        self._last_cpu = self.cpu_used = proctree.cpu_seconds(proctree.tree(self.proc.pid))

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to `timeout` until a warm process has done importing: its "done" READY, written
        before any bundle is staged (so no contributor code can forge it). False if it has not
        (still importing, or gone: the phase then finds out)."""
        deadline = time.monotonic() + timeout
        while not self._ready:
            left = deadline - time.monotonic()
            if left <= 0 or not self.alive:
                return False
            self._ready = self._pump(left, READY)
        return True

    def serve(self, command: dict[str, Any], phase: Phase) -> Exit:
        """Resume the process, send `command`, supervise until its phase ends (see module docstring)."""
        start = self.started if self.phases == 0 else time.monotonic()
        if self.phases:
            proctree.thaw(self.proc.pid)
        self.phases += 1
        for log in self._logs.values():
            log.cap = phase.limits.max_log_bytes
        with contextlib.suppress(OSError):  # a closed control pipe: the exit or the wall clock tells
            os.write(self._command, json.dumps({**command, "seq": phase.seq}).encode() + b"\n")
        return self._supervise(phase, start)

    def _supervise(self, phase: Phase, start: float) -> Exit:
        deadline, next_check = start + phase.limits.wall_seconds, time.monotonic() + POLL_SECONDS
        grace_end: float | None = None  # set when the last phase says "done"
        while True:
            wake = min(next_check, deadline, math.inf if grace_end is None else grace_end)
            done = self._pump(max(0.0, wake - time.monotonic()), phase.seq)
            if done and grace_end is None:
                if not phase.until_exit:
                    return self._finish_done(start)
                grace_end = time.monotonic() + EXIT_GRACE_SECONDS
            if self._reap(block=False) is not None:
                return self._finish_exit(start, None)
            now = time.monotonic()
            if grace_end is not None and now >= min(grace_end, deadline):
                self.kill()  # done, but something keeps it alive: its outputs are final, end it
                return self._finish_exit(start, None, returncode=0)
            periodic = now >= next_check
            next_check = now + POLL_SECONDS if periodic else next_check
            reason = self._reason(phase, now - start, periodic=periodic)
            if reason:
                self.kill()
                return self._finish_exit(start, reason)

    def _pump(self, timeout: float, seq: int) -> bool:
        """Wait up to `timeout` for pipe data or the exit; read what is there; True on "done" for `seq`."""
        done = False
        for key, _ in self._selector.select(timeout):
            fd = key.fd
            if fd == self._pidfd:
                continue
            chunk = self._read(fd)
            if fd == self._done:
                self._message += chunk
                done = done or seq in done_seqs(self._message)
            else:
                self._logs[fd].add(chunk)
        return done

    def _read(self, fd: int) -> bytes:
        try:
            chunk = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return b""
        if not chunk:
            with contextlib.suppress(KeyError):
                self._selector.unregister(fd)  # end of file: every writer is gone
        return chunk

    def _reason(self, phase: Phase, elapsed: float, *, periodic: bool) -> str | None:
        """Why to kill now, if at all: wall time, a log flood, and (periodically) cancel, output size, CPU."""
        limits = phase.limits
        if elapsed >= limits.wall_seconds:
            return "timeout"
        if any(log.overflowed for log in self._logs.values()):
            return "output_too_large"
        if not periodic:
            return None
        if phase.cancelled is not None and phase.cancelled():
            return CANCELLED
        total, entries = output_size(phase.output_root)
        if total > limits.max_output_bytes + limits.max_file_bytes or entries > MAX_OUTPUT_ENTRIES:
            return "output_too_large"
        procs = proctree.tree(self.proc.pid)
        self._last_cpu = max(self._last_cpu, proctree.cpu_seconds(procs))
        self._peak = max(self._peak, proctree.peak_memory_bytes(procs))
        if self._last_cpu - self.cpu_used >= limits.cpu_seconds:
            return "budget_exceeded" if phase.cpu_capped else "timeout"
        return None

    def _finish_done(self, start: float) -> Exit:
        """The phase said "done": freeze the tree, then measure it and take its logs."""
        wall = time.monotonic() - start
        if not proctree.freeze(self.proc.pid):
            self.kill()
            return self._finish_exit(start, None, returncode=0)
        for fd in list(self._logs):
            while self._read(fd):
                pass
        if any(log.overflowed for log in self._logs.values()):
            self.kill()
            return self._finish_exit(start, "output_too_large")
        procs = proctree.tree(self.proc.pid)
        cpu = max(self._last_cpu, proctree.cpu_seconds(procs))
        self._peak = max(self._peak, proctree.peak_memory_bytes(procs))
        return self._exit(0, None, wall, cpu)

    def _finish_exit(self, start: float, killed_for: str | None, *, returncode: int | None = None) -> Exit:
        """The process is gone (or being killed): reap it, read the rest of its logs."""
        wall = time.monotonic() - start
        status = self._reap(block=True)
        assert status is not None
        self._await_teardown()
        until = time.monotonic() + DRAIN_SECONDS
        while any(fd in self._logs for fd in self._open_fds()) and time.monotonic() < until:
            self._pump(until - time.monotonic(), -1)
        cpu = self._last_cpu
        if self._usage is not None:
            cpu = max(cpu, self._usage.ru_utime + self._usage.ru_stime)
            self._peak = max(self._peak, self._usage.ru_maxrss * 1024)
        return self._exit(status if returncode is None else returncode, killed_for, wall, cpu)

    def _exit(self, returncode: int, killed_for: str | None, wall: float, cpu: float) -> Exit:
        used, self.cpu_used = cpu - self.cpu_used, cpu
        stdout, stderr = (log.take() for log in self._logs.values())
        return Exit(returncode, killed_for, wall, max(used, 0.0), self._peak, stdout, stderr)

    def _open_fds(self) -> list[int]:
        return [key.fd for key in self._selector.get_map().values()]

    def _reap(self, *, block: bool) -> int | None:
        """The exit code once the process has ended (reaping it once), else None."""
        if self.returncode is None:
            pid, status, usage = os.wait4(self.proc.pid, 0 if block else os.WNOHANG)
            if pid:
                self.returncode = self.proc.returncode = os.waitstatus_to_exitcode(status)
                self._usage = usage
                with contextlib.suppress(KeyError):
                    self._selector.unregister(self._pidfd)
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the tree (a stopped process dies too) and bwrap's process group; the tree is gone
        once _await_teardown returns."""
        if self.returncode is None:
            self._dying += proctree.kill_tree(self.proc.pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def _await_teardown(self) -> None:
        """Wait until every process killed is gone: bwrap dies at once when killed, but the sandbox's
        pid 1 exits only once the kernel has emptied its namespace (forks and daemons included)."""
        if self._dying and not proctree.wait_gone(self._dying, TEARDOWN_SECONDS):
            log.error("sandbox %s: killed processes still there after %s s", self.proc.pid, TEARDOWN_SECONDS)
        self._dying = []

    def close(self) -> None:
        """Kill what is left, reap it, wait until its tree is gone and close every descriptor."""
        self.kill()
        self._reap(block=True)
        self._await_teardown()
        self._selector.close()
        for fd in (self._command, self._done, self._pidfd):
            with contextlib.suppress(OSError):
                os.close(fd)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
