"""SandboxSession: one sandboxed interpreter serves every phase of a submission, in order.

Starting a second interpreter cost more than the sandbox itself (its imports), so a session starts
one process for the bundle and sends it each phase as a command. Invariant 3 holds by time: a
phase's inputs are staged into the (live, bind-mounted) job folder only when its turn comes, in
place of the previous phase's, and only after that phase's outputs are read back into memory and
its process is frozen; so the baseline never sees train data, and nothing the process writes later
changes an outcome already returned. Holdout labels never enter (RunRequest has no field for them).

Supervision is the host's, per phase (process.py): wall time from the phase's start, CPU time of
the process tree against the phase's cap (the budget-derived cap included), logs, output size.
A phase that kills, crashes or exhausts its process gets its structured error as a one-phase run
did, and the next phase starts a fresh process. A process is also started afresh when the next
phase needs other kernel limits or another device than the running one has. A cancel check, polled
during every phase, kills the running phase within a poll and gives it the status "cancelled".

Saved weights are read back only as plain files and folders (readback.copy_tree) into a folder of the
host's, weights/PHASE beside output/, which the sandbox cannot see; anything else in them (a FIFO,
a symlink, a socket ...) fails the run with "invalid_weights" instead of blocking or misleading the
host that stores them.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from cohortbench.errors import ValidationError
from cohortbench.sandbox import bwrap, readback, seccomp
from cohortbench.sandbox import outputs as out
from cohortbench.sandbox.bwrap import Mounts
from cohortbench.sandbox.collect import collect, resources
from cohortbench.sandbox.compute import cpu_seconds_for, fits_budget
from cohortbench.sandbox.limits import Limits
from cohortbench.sandbox.process import SandboxProcess
from cohortbench.sandbox.runs import CANCELLED, OwnerLog, PublicError, RunOutcome, RunRequest
from cohortbench.sandbox.staging import check_request, prepare, stage_bundle, stage_phase
from cohortbench.sandbox.supervision import MAX_OUTPUT_ENTRIES, Exit, Phase

if TYPE_CHECKING:
    from cohortbench.sandbox.warm import WarmPool, WarmSandbox

log = logging.getLogger(__name__)
#: Each process gets its own uid from this range, so RLIMIT_NPROC counts its processes only.
RUN_UID_BASE = 1_000_000
RUN_UID_SPAN = 1_000_000_000
#: CPU seconds of slack in the kernel backstop above the host-enforced per-phase caps
BACKSTOP_SLACK_SECONDS = 2


@dataclass(frozen=True)
class Running:
    """The live process and what it was started with."""

    process: SandboxProcess
    uid: int
    device: str


def phase_limits(request: RunRequest) -> tuple[Limits, bool]:
    """The request's limits with the CPU capped by its remaining budget, and whether it was capped."""
    limits = request.limits
    if request.budget_flop is not None and cpu_seconds_for(request.budget_flop) < limits.cpu_seconds:
        return limits.with_cpu_cap(cpu_seconds_for(request.budget_flop)), True
    return limits, False


def _kernel_limits(limits: Limits) -> tuple[int, ...]:
    """The limits fixed at process start, which a later phase must share to reuse the process."""
    return (
        limits.memory_bytes,
        limits.max_processes,
        limits.max_file_bytes,
        limits.max_open_files,
        limits.tmp_bytes,
    )


def _refused(code: str) -> RunOutcome:
    return RunOutcome(status=code, public_error=PublicError(code=code))


def _cancelled(request: RunRequest, exit_info: Exit | None = None) -> RunOutcome:
    """A cancelled run: what it used so far and its logs (owner only); no error of the contributor's."""
    if exit_info is None:
        return RunOutcome(status=CANCELLED)
    logs = OwnerLog(stdout=exit_info.stdout, stderr=exit_info.stderr, message="cancelled while running")
    return RunOutcome(status=CANCELLED, resources=resources(request, exit_info), owner_log=logs)


def keep_weights(outcome: RunOutcome, saved: Path, dest: Path, limits: Limits) -> RunOutcome:
    """The outcome with its saved weights copied to the host's `dest`, or failed with invalid_weights.

    No saved folder at all leaves weights_dir None, as before; the copy is capped like the output.
    """
    try:
        saved.lstat()
    except FileNotFoundError:
        return replace(outcome, weights_dir=None)
    try:
        dest.parent.mkdir(mode=0o755, exist_ok=True)
        readback.copy_tree(saved, dest, max_bytes=limits.max_output_bytes, max_entries=MAX_OUTPUT_ENTRIES)
    except OSError as exc:
        shutil.rmtree(dest, ignore_errors=True)
        logs = replace(outcome.owner_log, message=f"saved weights refused: {exc}")
        code = "invalid_weights"
        return RunOutcome(code, resources=outcome.resources, public_error=PublicError(code), owner_log=logs)
    return replace(outcome, weights_dir=dest)


def _threads() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 8))


class SandboxSession:
    """The phases of one bundle, served by one sandboxed process while it lives (a context manager).

    `workdir` must not exist yet or be empty; it gets bundle/, input/PHASE/ and output/PHASE/
    (fine-tuned weights stay there, in the workspace). Each phase runs at most once, the baseline
    before the finetune (once train data is staged, no baseline may follow). Entering
    raises SandboxUnavailableError if bubblewrap is missing or unusable, unless `unsafe_no_sandbox`
    (development only: contributor code then runs with the launcher's own rights, loudly logged).
    `cancelled` (the worker passes its job's `ctx.cancelled`) is polled during every phase; once it
    is True a running phase is killed and returns the status "cancelled", and no new phase starts.

    `pool`: the first phase takes a warm sandbox of the pool when one fits (see warm.WarmPool); its
    folders then replace `workdir` (`self.workdir` says where they are) and are removed when the
    session exits, fine-tuned weights included: keep them before.
    """

    def __init__(
        self,
        bundle_dir: Path,
        workdir: Path,
        *,
        unsafe_no_sandbox: bool = False,
        cancelled: Callable[[], bool] | None = None,
        pool: WarmPool | None = None,
    ) -> None:
        self.bundle_dir, self.workdir, self.unsafe = bundle_dir, workdir, unsafe_no_sandbox
        self.cancelled, self.pool = cancelled, pool
        self.warm: WarmSandbox | None = None  # the warm sandbox taken, if any
        self.processes_started = 0
        self._roots: Mounts | None = None
        self._running: Running | None = None
        self._phases: set[str] = set()
        self._seq = 0

    def __enter__(self) -> SandboxSession:
        if not self.unsafe:
            bwrap.check_sandbox()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
        if self.warm is not None:
            shutil.rmtree(self.warm.workdir, ignore_errors=True)

    def close(self) -> None:
        """Kill the process if one is left (it is frozen between phases) and reap it."""
        if self._running is not None:
            self._running.process.close()
            self._running = None

    def run(self, request: RunRequest, *, last: bool = False) -> RunOutcome:
        """Run one phase and return its validated outcome (the same as a one-phase run's).

        `last`: no phase follows, so the process exits after this one and its exit status and exit
        handlers count, as in a one-phase run, if it exits within process.EXIT_GRACE_SECONDS of its
        "done" (else it is killed, its outputs final). A run over its remaining budget is refused
        before anything is staged or started, and a cancelled one before anything is started.
        """
        if request.bundle_dir != self.bundle_dir:
            raise ValidationError("a session runs the phases of its own bundle only")
        if request.phase in self._phases:
            raise ValidationError(f"the {request.phase} phase already ran in this session")
        if request.phase == "baseline" and "finetune" in self._phases:
            raise ValidationError("the baseline comes before the finetune: train data is staged already")
        if not fits_budget(request.budget_flop):
            return _refused("budget_exceeded")
        check_request(request)
        if self.cancelled is not None and self.cancelled():
            return _cancelled(request)
        self._phases.add(request.phase)
        limits, cpu_capped = phase_limits(request)
        if self._roots is None:
            self._roots = self._take_warm(request) or prepare(self.bundle_dir, self.workdir)
        running = self._process_for(request, limits, last=last)
        mounts = stage_phase(request, self._roots, uid=running.uid)
        self._seq += 1
        phase = Phase(self._seq, limits, cpu_capped, self._roots.output_dir, last, self.cancelled)
        exit_info = running.process.serve({"phase": request.phase, "last": last}, phase)
        if last or not running.process.alive or exit_info.killed_for == CANCELLED:
            self.close()
        if exit_info.killed_for == CANCELLED:
            return _cancelled(request, exit_info)
        outcome = collect(request, mounts, exit_info, limits=limits, cpu_capped=cpu_capped)
        if not outcome.ok or request.phase != "finetune":
            return outcome
        saved = mounts.output_dir / out.WEIGHTS
        return keep_weights(outcome, saved, self.workdir / out.WEIGHTS / request.phase, limits)

    def _take_warm(self, request: RunRequest) -> Mounts | None:
        """Take a warm sandbox of the pool, stage the bundle into it and make it this session's."""
        usable = self.pool is not None and (self.unsafe or not self.pool.unsafe)
        warm = self.pool.take(request) if self.pool is not None and usable else None
        if warm is None:
            return None
        self.warm, self.workdir = warm, warm.workdir
        stage_bundle(self.bundle_dir, warm.roots)
        warm.running.process.hand_over()
        self._running = warm.running
        return warm.roots

    def _process_for(self, request: RunRequest, limits: Limits, *, last: bool) -> Running:
        """The running process if it can serve this phase, else a fresh one."""
        running = self._running
        if running is not None:
            process = running.process
            headroom = process.rlimits.cpu_seconds - process.cpu_used
            fits = _kernel_limits(process.rlimits) == _kernel_limits(limits)
            if process.alive and fits and running.device == request.device and headroom > limits.cpu_seconds:
                return running
            self.close()
        self._running = self._start(request, limits, last=last)
        return self._running

    def _start(self, request: RunRequest, limits: Limits, *, last: bool) -> Running:
        """Start the entry for this phase, and the later ones unless `last`: the kernel's RLIMIT_CPU
        is a backstop sized for this phase's cap plus a full phase more."""
        later = 0 if last else request.limits.cpu_seconds + BACKSTOP_SLACK_SECONDS
        rlimits = replace(limits, cpu_seconds=limits.cpu_seconds + later)
        assert self._roots is not None
        self.processes_started += 1
        if self.unsafe:
            log.warning("UNSAFE: running bundle %s WITHOUT the sandbox (development only)", self.bundle_dir)
        return start_process(self._roots, self.workdir, rlimits, device=request.device, unsafe=self.unsafe)


def start_process(
    roots: Mounts,
    workdir: Path,
    rlimits: Limits,
    *,
    device: str,
    unsafe: bool = False,
    preload: tuple[str, ...] = (),
    idle: bool = False,
) -> Running:
    """Start one sandboxed entry over the job folders `roots` (bwrap, seccomp, its own uid, `rlimits`),
    or in unsafe mode the bare entry over `workdir`. `preload`: modules it imports before its first
    command, under SCHED_IDLE with `idle` until SandboxProcess.hand_over (see warm.WarmPool)."""
    uid = RUN_UID_BASE + secrets.randbelow(RUN_UID_SPAN)
    if unsafe:
        entry = [sys.executable, "-m", "cohortbench.sandbox.entry", str(workdir)]
        extra = [",".join(preload)] if preload else []
        process = SandboxProcess(lambda c, d: [*entry, str(c), str(d), *extra], rlimits, idle=idle)
        return Running(process, uid, device)
    fd = seccomp.filter_fd()
    try:
        gpu = device == "cuda"

        def argv(command_fd: int, done_fd: int) -> list[str]:
            return bwrap.bwrap_command(
                roots,
                uid=uid,
                seccomp_fd=fd,
                control_fds=(command_fd, done_fd),
                tmp_bytes=rlimits.tmp_bytes,
                gpu=gpu,
                threads=_threads(),
                preload=preload,
            )

        process = SandboxProcess(argv, rlimits, pass_fds=(fd,), idle=idle)
    finally:
        os.close(fd)
    return Running(process, uid, device)
