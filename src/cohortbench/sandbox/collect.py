"""Reads a finished run back: exit status and output files become a RunOutcome, or an error code.

Order of verdicts: what the launcher itself observed (wall time, floods, CPU cap) beats what the
run claims in error.json, which beats the output files. Every file is size-checked and parsed
strictly (no pickle, no symlinks) because contributor code could have written any of them.
"""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np

from cohortbench.errors import CohortbenchError
from cohortbench.sandbox import outputs as out
from cohortbench.sandbox.bwrap import Mounts
from cohortbench.sandbox.compute import estimate_flop
from cohortbench.sandbox.error_json import split_error
from cohortbench.sandbox.errors import BadPredictionsError, BudgetExceededError, detail_of
from cohortbench.sandbox.limits import Limits
from cohortbench.sandbox.runs import (
    SUCCEEDED,
    OwnerLog,
    PermutationSpec,
    PublicError,
    Resources,
    RunOutcome,
    RunRequest,
)
from cohortbench.sandbox.supervision import Exit

CPU_KILL_SIGNALS = (signal.SIGXCPU, signal.SIGKILL)


def _launcher_verdict(exit_info: Exit, limits: Limits, *, cpu_capped: bool) -> str | None:
    """A code decided by what the launcher saw, independent of the run's own files."""
    if exit_info.killed_for:
        return exit_info.killed_for
    signo = -exit_info.returncode if exit_info.returncode < 0 else exit_info.returncode - 128
    if signo in CPU_KILL_SIGNALS and exit_info.cpu_seconds >= limits.cpu_seconds - 0.5:
        return "budget_exceeded" if cpu_capped else "timeout"
    if signo == signal.SIGXFSZ:
        return "output_too_large"
    return None


def resources(request: RunRequest, exit_info: Exit) -> Resources:
    """Measured use, from the host's own figures only: FLOP estimated from CPU and GPU time.

    A FLOP count reported by the model (resources.json) is never read: the contributor's code
    could write any number there, a patient's value or a budget never charged.
    """
    gpu_seconds = exit_info.wall_seconds if request.device == "cuda" else 0.0
    return Resources(
        cpu_seconds=exit_info.cpu_seconds,
        wall_seconds=exit_info.wall_seconds,
        peak_memory_bytes=exit_info.peak_memory_bytes,
        gpu_seconds=gpu_seconds,
        flop=estimate_flop(exit_info.cpu_seconds, gpu_seconds),
        flop_method="estimated",
    )


def _read_success(request: RunRequest, mounts: Mounts, limits: Limits, use: Resources) -> RunOutcome:
    output_dir, n, k = mounts.output_dir, len(request.holdout_features), len(request.classes)
    predictions = out.read_array(output_dir / out.PREDICTIONS, max_bytes=limits.max_output_bytes)
    out.check_probabilities(predictions, n_rows=n, n_classes=k)
    permuted: tuple[tuple[PermutationSpec, np.ndarray], ...] = ()
    if request.permutations:
        stack = out.read_array(output_dir / out.PERMUTED, max_bytes=limits.max_output_bytes)
        if stack.shape != (len(request.permutations), n, k):
            raise BadPredictionsError(f"permuted predictions have shape {stack.shape}")
        for proba in stack:
            out.check_probabilities(proba, n_rows=n, n_classes=k)
        permuted = tuple(zip(request.permutations, stack, strict=True))
    losses = out.read_losses(output_dir / out.LOSSES, max_points=limits.max_loss_points)
    if request.budget_flop is not None and use.flop > request.budget_flop:
        raise BudgetExceededError("the run used more compute than the remaining budget")
    weights = output_dir / out.WEIGHTS
    weights_dir = (
        weights if request.phase == "finetune" and weights.is_dir() and not weights.is_symlink() else None
    )
    return RunOutcome(
        SUCCEEDED, predictions, permuted, losses, use, weights_dir, n_parameters=_model_size(output_dir)
    )


#: more than any model a workspace can run (a 10-trillion-parameter model does not fit the limits)
MAX_MODEL_SIZE = 10**13


def _model_size(output_dir: Path) -> int | None:
    """The size resources.json reports, if it is a plausible count; anything else is no size.

    Written by contributor code, so it is shown to the owner only and never charged or ranked.
    """
    try:
        reported = out.read_json(output_dir / out.RESOURCES).get("n_parameters")
    except (OSError, ValueError, AttributeError, CohortbenchError):
        return None
    if isinstance(reported, bool) or not isinstance(reported, int) or not 0 <= reported <= MAX_MODEL_SIZE:
        return None
    return reported


def collect(
    request: RunRequest, mounts: Mounts, exit_info: Exit, *, limits: Limits, cpu_capped: bool
) -> RunOutcome:
    """The outcome of a finished run (see module docstring for the order of verdicts)."""
    use = resources(request, exit_info)
    logs = OwnerLog(stdout=exit_info.stdout, stderr=exit_info.stderr)
    verdict = _launcher_verdict(exit_info, limits, cpu_capped=cpu_capped)
    error_file = mounts.output_dir / out.ERROR
    if verdict is None and exit_info.returncode == 0 and not error_file.exists():
        try:
            return _with_logs(_read_success(request, mounts, limits, use), logs)
        except CohortbenchError as exc:
            return _failed(str(exc.code), use, logs, message=exc.message)
    raw = _raw_error(error_file)
    public, owner = split_error(raw, mounts.bundle_dir, code=verdict)
    return RunOutcome(status=public.code, resources=use, public_error=public, owner_log=_merge(logs, owner))


def _raw_error(path: Path) -> object:
    try:
        return out.read_json(path) if path.is_file() and not path.is_symlink() else {}
    except (OSError, ValueError, CohortbenchError):
        return {}


def _failed(code: str, use: Resources, logs: OwnerLog, *, message: str) -> RunOutcome:
    owner = OwnerLog(stdout=logs.stdout, stderr=logs.stderr, message=message)
    public = PublicError(code=code, detail=detail_of(code, message))
    return RunOutcome(status=code, resources=use, public_error=public, owner_log=owner)


def _with_logs(outcome: RunOutcome, logs: OwnerLog) -> RunOutcome:
    from dataclasses import replace

    return replace(outcome, owner_log=logs)


def _merge(logs: OwnerLog, owner: OwnerLog) -> OwnerLog:
    return OwnerLog(stdout=logs.stdout, stderr=logs.stderr, message=owner.message, traceback=owner.traceback)
