"""What goes into a sandboxed run and what comes out of it.

The outcome separates what a contributor may see (status, numbers, `PublicError`) from what only
the workspace owner may see (`OwnerLog`: stdout, stderr, exception message and traceback, which
can contain patient values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from cohortbench.bundles.plan import Plan
from cohortbench.errors import ValidationError
from cohortbench.sandbox.limits import Limits

Phase = Literal["baseline", "finetune"]
Device = Literal["cpu", "cuda"]

#: Codes a run's own outcome may carry: derived by the host from what happened in the sandbox.
RUN_ERROR_CODES = (
    "invalid_bundle",
    "import_error",
    "crashed",
    "timeout",
    "out_of_memory",
    "budget_exceeded",
    "bad_predictions",
    "fine_tune_unsupported",
    "output_too_large",
    "invalid_weights",
)
#: The platform failed, not the model (the worker died on every attempt, an error outside the
#: sandbox). Set only by the service when a job is given up, never accepted from a run, since it
#: costs the contributor no submission (service.workspaces.usage).
PLATFORM_ERROR = "platform_error"
#: Fixed error codes a contributor may see; nothing else describes a failure to them.
ERROR_CODES = (*RUN_ERROR_CODES, PLATFORM_ERROR)
SUCCEEDED = "succeeded"
#: the status of a run stopped by its job's cancellation: no error of the contributor's, no result
CANCELLED = "cancelled"


@dataclass(frozen=True)
class PermutationSpec:
    """One permuted copy of the holdout: `columns` shuffled together (rows) with `seed`."""

    kind: Literal["feature", "group"]
    name: str
    columns: tuple[str, ...]
    repeat: int
    seed: int


def permutation_specs(
    feature_groups: Mapping[str, Sequence[str]], *, repeats: int = 3, seed: int = 0, per_feature: bool = True
) -> list[PermutationSpec]:
    """Permutations for grouped (and optionally per-feature) permutation importance, each seeded apart."""
    if repeats < 1:
        raise ValidationError(f"repeats must be at least 1, got {repeats}")
    targets: list[tuple[Literal["feature", "group"], str, tuple[str, ...]]] = [
        ("group", name, tuple(cols)) for name, cols in feature_groups.items()
    ]
    if per_feature:
        targets += [("feature", c, (c,)) for cols in feature_groups.values() for c in cols]
    specs = []
    for i, (kind, name, cols) in enumerate(targets):
        for r in range(repeats):
            specs.append(PermutationSpec(kind, name, cols, r, seed + i * repeats + r))
    return specs


@dataclass(frozen=True)
class RunRequest:
    """One phase of a submission. Holdout labels are deliberately not a field: they never go in."""

    phase: Phase
    bundle_dir: Path
    classes: tuple[str, ...]
    holdout_features: pd.DataFrame
    plan: Plan = field(default_factory=Plan)
    train_features: pd.DataFrame | None = None
    train_labels: np.ndarray | None = None
    permutations: tuple[PermutationSpec, ...] = ()
    device: Device = "cpu"
    budget_flop: float | None = None
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Resources:
    """Measured use of one run. flop_method says whether `flop` was counted (torch) or estimated."""

    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    peak_memory_bytes: int = 0
    gpu_seconds: float = 0.0
    flop: float = 0.0
    flop_method: Literal["counted", "estimated"] = "estimated"


@dataclass(frozen=True)
class Frame:
    """One stack frame inside the contributor's own files: path relative to the bundle, line, function."""

    file: str
    line: int
    function: str


@dataclass(frozen=True)
class PublicError:
    """What a contributor sees of a failure: a fixed code, the exception type name, their own frames."""

    code: str
    exc_type: str | None = None
    frames: tuple[Frame, ...] = ()
    detail: str | None = None


@dataclass(frozen=True)
class OwnerLog:
    """Free text from the sandbox, for the workspace owner only (may contain record values)."""

    stdout: str = ""
    stderr: str = ""
    message: str = ""
    traceback: str = ""


@dataclass(frozen=True)
class RunOutcome:
    """Result of one run: `status` is "succeeded", "cancelled" or one of ERROR_CODES."""

    status: str
    predictions: np.ndarray | None = None
    permuted: tuple[tuple[PermutationSpec, np.ndarray], ...] = ()
    losses: tuple[float, ...] = ()
    resources: Resources = field(default_factory=Resources)
    weights_dir: Path | None = None
    public_error: PublicError | None = None
    owner_log: OwnerLog = field(default_factory=OwnerLog)
    #: the model's size as its adapter counted it in the sandbox (parameters; tree nodes for boosted
    #: trees; initializer values for ONNX): untrusted, so the owner's only, never a contributor's
    n_parameters: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == SUCCEEDED
