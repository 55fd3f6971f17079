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
phase needs other kernel limits or another device than the running one has.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType

from cohortbench.errors import ValidationError
from cohortbench.sandbox import bwrap, seccomp
from cohortbench.sandbox.bwrap import Mounts
from cohortbench.sandbox.collect import collect
from cohortbench.sandbox.compute import cpu_seconds_for, fits_budget
from cohortbench.sandbox.limits import Limits
from cohortbench.sandbox.process import SandboxProcess
from cohortbench.sandbox.runs import PublicError, RunOutcome, RunRequest
from cohortbench.sandbox.staging import check_request, prepare, stage_phase
from cohortbench.sandbox.supervision import Phase

log = logging.getLogger(__name__)
#: Each process gets its own uid from this range, so RLIMIT_NPROC counts its processes only.
RUN_UID_BASE = 1_000_000
RUN_UID_SPAN = 1_000_000_000
#: CPU seconds of slack in the kernel backstop above the host-enforced per-phase caps
BACKSTOP_SLACK_SECONDS = 2


@dataclass(frozen=True)
class _Running:
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


def _threads() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 8))


class SandboxSession:
    """The phases of one bundle, served by one sandboxed process while it lives (a context manager).

    `workdir` must not exist yet or be empty; it gets bundle/, input/PHASE/ and output/PHASE/
    (fine-tuned weights stay there, in the workspace). Each phase runs at most once, the baseline
    before the finetune (once train data is staged, no baseline may follow). Entering
    raises SandboxUnavailableError if bubblewrap is missing or unusable, unless `unsafe_no_sandbox`
    (development only: contributor code then runs with the launcher's own rights, loudly logged).
    """

    def __init__(self, bundle_dir: Path, workdir: Path, *, unsafe_no_sandbox: bool = False) -> None:
        self.bundle_dir, self.workdir, self.unsafe = bundle_dir, workdir, unsafe_no_sandbox
        self.processes_started = 0
        self._roots: Mounts | None = None
        self._running: _Running | None = None
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

    def close(self) -> None:
        """Kill the process if one is left (it is frozen between phases) and reap it."""
        if self._running is not None:
            self._running.process.close()
            self._running = None

    def run(self, request: RunRequest, *, last: bool = False) -> RunOutcome:
        """Run one phase and return its validated outcome (the same as a one-phase run's).

        `last`: no phase follows, so the process exits after this one and its exit status and exit
        handlers count, exactly as in a one-phase run. A run over its remaining budget is refused
        before anything is staged or started.
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
        self._phases.add(request.phase)
        limits, cpu_capped = phase_limits(request)
        if self._roots is None:
            self._roots = prepare(self.bundle_dir, self.workdir)
        running = self._process_for(request, limits, last=last)
        mounts = stage_phase(request, self._roots, uid=running.uid)
        self._seq += 1
        phase = Phase(self._seq, limits, cpu_capped, self._roots.output_dir, until_exit=last)
        exit_info = running.process.serve({"phase": request.phase, "last": last}, phase)
        if last or not running.process.alive:
            self.close()
        return collect(request, mounts, exit_info, limits=limits, cpu_capped=cpu_capped)

    def _process_for(self, request: RunRequest, limits: Limits, *, last: bool) -> _Running:
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

    def _start(self, request: RunRequest, limits: Limits, *, last: bool) -> _Running:
        """Start the entry for this phase, and the later ones unless `last`: the kernel's RLIMIT_CPU
        is a backstop sized for this phase's cap plus a full phase more."""
        later = 0 if last else request.limits.cpu_seconds + BACKSTOP_SLACK_SECONDS
        rlimits = replace(limits, cpu_seconds=limits.cpu_seconds + later)
        uid = RUN_UID_BASE + secrets.randbelow(RUN_UID_SPAN)
        assert self._roots is not None
        self.processes_started += 1
        if self.unsafe:
            log.warning("UNSAFE: running bundle %s WITHOUT the sandbox (development only)", self.bundle_dir)
            entry = [sys.executable, "-m", "cohortbench.sandbox.entry", str(self.workdir)]
            process = SandboxProcess(lambda c, d: [*entry, str(c), str(d)], rlimits)
            return _Running(process, uid, request.device)
        fd = seccomp.filter_fd()
        try:
            roots, gpu = self._roots, request.device == "cuda"

            def argv(command_fd: int, done_fd: int) -> list[str]:
                return bwrap.bwrap_command(
                    roots,
                    uid=uid,
                    seccomp_fd=fd,
                    control_fds=(command_fd, done_fd),
                    tmp_bytes=limits.tmp_bytes,
                    gpu=gpu,
                    threads=_threads(),
                )

            process = SandboxProcess(argv, rlimits, pass_fds=(fd,))
        finally:
            os.close(fd)
        return _Running(process, uid, request.device)
