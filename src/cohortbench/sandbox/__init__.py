"""The sandbox: runs contributor code under bubblewrap with no network and kernel-enforced limits.

Only numbers come back (predictions, losses, resource use) plus structured errors; free text from
the run stays in the owner-only log. See session.SandboxSession (both phases of a submission in one
sandboxed process), launcher.run_in_sandbox (one phase) and the invariants in DESIGN.md.
"""

from cohortbench.sandbox.bwrap import SandboxUnavailableError
from cohortbench.sandbox.compute import CPU_PEAK_FLOP_PER_CORE_S, GPU_PEAK_FLOP_PER_S, estimate_flop
from cohortbench.sandbox.launcher import check_sandbox, run_in_sandbox
from cohortbench.sandbox.limits import Limits
from cohortbench.sandbox.runs import (
    ERROR_CODES,
    Frame,
    OwnerLog,
    PermutationSpec,
    PublicError,
    Resources,
    RunOutcome,
    RunRequest,
    permutation_specs,
)
from cohortbench.sandbox.session import SandboxSession
from cohortbench.sandbox.warm import WarmPool

__all__ = [
    "CPU_PEAK_FLOP_PER_CORE_S",
    "ERROR_CODES",
    "GPU_PEAK_FLOP_PER_S",
    "Frame",
    "Limits",
    "OwnerLog",
    "PermutationSpec",
    "PublicError",
    "Resources",
    "RunOutcome",
    "RunRequest",
    "SandboxSession",
    "SandboxUnavailableError",
    "WarmPool",
    "check_sandbox",
    "estimate_flop",
    "permutation_specs",
    "run_in_sandbox",
]
