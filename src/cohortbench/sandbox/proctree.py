"""The sandbox's process tree as the host sees it in /proc: CPU time, peak memory, stop and resume.

Per-phase use is measured here, by the host, never taken from the child: the CPU time of a tree is
utime + stime + cutime + cstime of its root (bwrap, or the bare entry in unsafe mode) and of every
live descendant (a descendant that was reaped is in its parent's cutime/cstime already). Between two
phases the whole tree is stopped with SIGSTOP, which no process can catch or ignore, so contributor
code does nothing while the host reads a phase's outputs and stages the next one.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: states of a process that runs no code: stopped, traced, zombie, dead
STILL = frozenset("TtZXx")
FREEZE_ROUNDS = 200


@dataclass(frozen=True)
class ProcStat:
    """The few fields of /proc/PID/stat the host needs."""

    pid: int
    ppid: int
    state: str
    cpu_ticks: int


def read_stat(pid: int) -> ProcStat | None:
    """/proc/PID/stat, or None once the process is gone. The name may hold spaces: split after ')'."""
    try:  # plain os calls: the host scans /proc every poll, pathlib made a scan 4x slower
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        try:
            data = os.read(fd, 4096)
        finally:
            os.close(fd)
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2 :].split()
    ticks = sum(int(v) for v in rest[11:15])  # utime, stime, cutime, cstime
    return ProcStat(pid, int(rest[1]), rest[0].decode(), ticks)


def tree(root: int) -> list[ProcStat]:
    """`root` and every process below it (one scan of /proc; empty once root is gone)."""
    children: dict[int, list[ProcStat]] = {}
    top: ProcStat | None = None
    for name in os.listdir("/proc"):  # noqa: PTH208 (a scan every poll: plain os calls)
        if name.isdigit():
            stat = read_stat(int(name))
            if stat is not None:
                children.setdefault(stat.ppid, []).append(stat)
                top = stat if stat.pid == root else top
    found = [top] if top is not None else []
    i = 0
    while i < len(found):  # breadth-first
        found.extend(children.get(found[i].pid, []))
        i += 1
    return found


def cpu_seconds(procs: list[ProcStat]) -> float:
    """CPU time of a tree, own and reaped children's (see module docstring)."""
    return sum(p.cpu_ticks for p in procs) / CLOCK_TICKS


def peak_memory_bytes(procs: list[ProcStat]) -> int:
    """The largest VmHWM (peak resident set so far) among the live processes of the tree."""
    peak = 0
    for proc in procs:
        with contextlib.suppress(OSError, ValueError):
            for line in (PROC / str(proc.pid) / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
    return peak


def signal_tree(root: int, signo: int) -> None:
    """Send `signo` to the root and each descendant found in one scan."""
    for proc in tree(root):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(proc.pid, signo)


def kill_tree(root: int) -> list[int]:
    """SIGKILL the root and each descendant found in one scan, through pidfds (a pid reused since
    the scan is never hit); returns the pidfds, for wait_gone."""
    pidfds = []
    for proc in tree(root):
        try:
            fd = os.pidfd_open(proc.pid)
        except OSError:
            continue  # gone already
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        pidfds.append(fd)
    return pidfds


def wait_gone(pidfds: list[int], timeout: float) -> bool:
    """Wait up to `timeout` until every process behind `pidfds` has exited, then close them; False
    if one was still there. A pid namespace's init exits only after every other process of its
    namespace was killed and reaped, so its pidfd tells when the whole sandbox is gone."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as waiting:
        for fd in pidfds:
            waiting.register(fd, selectors.EVENT_READ)
        while waiting.get_map() and (left := deadline - time.monotonic()) > 0:
            for key, _ in waiting.select(left):
                waiting.unregister(key.fd)
        gone = not waiting.get_map()
    for fd in pidfds:
        os.close(fd)
    return gone


def freeze(root: int) -> bool:
    """SIGSTOP the whole tree until one scan finds nothing running (a fork in flight is caught next
    round). False if it never settles within FREEZE_ROUNDS: the caller then kills the tree."""
    for _ in range(FREEZE_ROUNDS):
        running = [p for p in tree(root) if p.state not in STILL]
        if not running:
            return True
        for proc in running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signal.SIGSTOP)
        time.sleep(0.001)
    return False


def set_policy(root: int, policy: int, rounds: int = 20) -> bool:
    """Put every thread of the tree under the scheduling `policy` (os.SCHED_OTHER, SCHED_IDLE ...;
    it is per thread in Linux, and a new thread inherits its creator's), scanning again until one
    scan changes nothing; False if it never did."""
    for _ in range(rounds):
        changed = False
        for proc in tree(root):
            with contextlib.suppress(OSError):
                for tid in (int(t) for t in os.listdir(f"/proc/{proc.pid}/task")):  # noqa: PTH208
                    with contextlib.suppress(OSError):
                        if os.sched_getscheduler(tid) != policy:
                            os.sched_setscheduler(tid, policy, os.sched_param(0))
                            changed = True
        if not changed:
            return True
    return False


def thaw(root: int) -> None:
    """Resume a frozen tree (SIGCONT)."""
    signal_tree(root, signal.SIGCONT)
