"""run_in_sandbox: stage one run's inputs, run the entry point under bubblewrap, read back only numbers."""

from __future__ import annotations

import functools
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

from cohortbench.sandbox import bwrap, seccomp
from cohortbench.sandbox.bwrap import Mounts, SandboxUnavailableError
from cohortbench.sandbox.collect import collect
from cohortbench.sandbox.compute import cpu_seconds_for, fits_budget
from cohortbench.sandbox.limits import Limits
from cohortbench.sandbox.process import Exit, run_supervised
from cohortbench.sandbox.runs import PublicError, RunOutcome, RunRequest
from cohortbench.sandbox.staging import stage

log = logging.getLogger(__name__)
#: Each run gets its own uid from this range, so RLIMIT_NPROC counts its processes only.
RUN_UID_BASE = 1_000_000
RUN_UID_SPAN = 1_000_000_000


@functools.cache
def check_sandbox() -> None:
    """Probe once per process that bwrap can create the namespaces; SandboxUnavailableError if not."""
    probe = [bwrap.find_bwrap(), *bwrap.isolation_args(), *bwrap.system_args(), "--", "/usr/bin/true"]
    result = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    if result.returncode != 0:
        raise SandboxUnavailableError(
            f"bubblewrap cannot create the sandbox namespaces ({result.stderr.strip()[:200]}); "
            f"runs are refused. Check that namespaces are allowed, or {bwrap.INSTALL_HINT}"
        )


def _refused(code: str) -> RunOutcome:
    return RunOutcome(status=code, public_error=PublicError(code=code))


def run_in_sandbox(request: RunRequest, workdir: Path, *, unsafe_no_sandbox: bool = False) -> RunOutcome:
    """Run one phase of a bundle in the sandbox and return its validated outcome.

    `workdir` must not exist yet or be empty; it keeps input/, bundle/ and output/ (fine-tuned
    weights stay there, in the workspace). Raises SandboxUnavailableError if bubblewrap is missing
    or unusable, unless `unsafe_no_sandbox` (development only: contributor code then runs with the
    launcher's own rights, and a warning is logged).
    """
    if not fits_budget(request.budget_flop):
        return _refused("budget_exceeded")
    limits, cpu_capped = request.limits, False
    if request.budget_flop is not None and cpu_seconds_for(request.budget_flop) < limits.cpu_seconds:
        limits, cpu_capped = limits.with_cpu_cap(cpu_seconds_for(request.budget_flop)), True
    if not unsafe_no_sandbox:
        check_sandbox()
    uid = RUN_UID_BASE + secrets.randbelow(RUN_UID_SPAN)
    mounts = stage(request, workdir, uid=uid)
    if unsafe_no_sandbox:
        log.warning("UNSAFE: running bundle %s WITHOUT the sandbox (development only)", request.bundle_dir)
        argv = [sys.executable, "-m", "cohortbench.sandbox.entry", str(workdir)]
        exit_info = run_supervised(argv, limits, mounts.output_dir)
    else:
        exit_info = _run_bwrap(request, mounts, limits, uid=uid)
    return collect(request, mounts, exit_info, limits=limits, cpu_capped=cpu_capped)


def _threads() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def _run_bwrap(request: RunRequest, mounts: Mounts, limits: Limits, *, uid: int) -> Exit:
    """bwrap with a fresh seccomp program on an inherited fd."""
    fd = seccomp.filter_fd()
    try:
        argv = bwrap.bwrap_command(
            mounts,
            uid=uid,
            seccomp_fd=fd,
            tmp_bytes=limits.tmp_bytes,
            gpu=request.device == "cuda",
            threads=_threads(),
        )
        return run_supervised(argv, limits, mounts.output_dir, pass_fds=(fd,))
    finally:
        os.close(fd)
