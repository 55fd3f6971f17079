from .bwrap import SandboxUnavailableError
from .compute import CPU_PEAK_FLOP_PER_CORE_S, GPU_PEAK_FLOP_PER_S, estimate_flop
from .launcher import check_sandbox, run_in_sandbox
from .limits import Limits
from .runs import (
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
from .session import SandboxSession
from .warm import WarmPool

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
