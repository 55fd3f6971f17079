"""Resource limits of one sandboxed run, with defaults that fit a 2-CPU, 8 GiB workspace job."""

from __future__ import annotations

from dataclasses import dataclass, replace

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class Limits:
    """Hard caps applied to contributor code; every one is enforced by the kernel or by the launcher.

    memory_bytes is RLIMIT_AS (address space) of each process; max_processes is RLIMIT_NPROC, which
    the kernel enforces because the sandbox runs under its own unprivileged uid; tmp_bytes sizes the
    private /tmp tmpfs; max_output_bytes caps every file the run writes to its output folder and
    max_log_bytes the stdout/stderr kept for the owner.
    """

    cpu_seconds: int = 3600
    wall_seconds: float = 1800.0
    memory_bytes: int = 8 * GIB
    max_processes: int = 64
    max_file_bytes: int = 1 * GIB
    max_open_files: int = 256
    tmp_bytes: int = 512 * MIB
    max_output_bytes: int = 64 * MIB
    max_log_bytes: int = 1 * MIB
    max_loss_points: int = 10_000

    def with_cpu_cap(self, cpu_seconds: float) -> Limits:
        """The same limits with the CPU time lowered to `cpu_seconds` (never raised), at least 1 s."""
        capped = max(1, min(self.cpu_seconds, int(cpu_seconds)))
        return replace(self, cpu_seconds=capped)
