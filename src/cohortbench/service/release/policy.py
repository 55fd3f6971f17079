"""What every payload of the release step shares: the workspace's release policy, its score grids,
the unit importance is released over, and the energy of released compute."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.privacy.channels import ReleasePolicy, class_score_step
from cohortbench.privacy.leaderboard import step_rounder
from cohortbench.sandbox import ERROR_CODES, Limits
from cohortbench.sandbox.compute import CPU_PEAK_FLOP_PER_CORE_S, GPU_PEAK_FLOP_PER_S
from cohortbench.service import workspaces
from cohortbench.service.workspaces.rules import rules_of
from cohortbench.store.models import Workspace
from cohortbench.workspaces import estimate_energy

FINAL = ("succeeded", "failed", "cancelled")


Rounder = Callable[[float], float]


def policy_of(session: Session, workspace: Workspace) -> ReleasePolicy:
    """The release policy of a workspace, from its latest cohort version and feature groups."""
    return ReleasePolicy.for_workspace(
        n_holdout=workspaces.latest_version(session, workspace).n_holdout,
        classes=tuple(workspace.classes),
        n_groups=len(importance_units(workspace)[1]),
        run_states=len(ERROR_CODES) + 2,  # succeeded, cancelled, and each failure code
        wall_seconds=Limits().wall_seconds,
        ladder=rules_of(workspace).ladder,
    )


def rounder(policy: ReleasePolicy) -> Rounder:
    """Scores onto the policy's grid, clamped to [0, 1] first so the grid's value count holds."""
    return _on_grid(policy.score_step)


def _on_grid(step: float) -> Rounder:
    on_grid = step_rounder(step)
    return lambda value: on_grid(min(max(float(value), 0.0), 1.0))


def _recall_rounder(support: Any, policy: ReleasePolicy) -> Rounder | None:
    """The grid of a class's recall (coarser for small classes), None when it is not released."""
    step = class_score_step(int(support) if isinstance(support, int | float) else None, policy.score_step)
    return None if step is None else _on_grid(step)


def _support(result_or_headline: Mapping[str, Any] | None, name: str) -> Any:
    """A class's holdout support from a full result (per_class) or a board headline (support)."""
    if not result_or_headline:
        return None
    if "per_class" in result_or_headline:
        return next((pc["support"] for pc in result_or_headline["per_class"] if pc["name"] == name), None)
    return (result_or_headline.get("support") or {}).get(name)


def _ladder_verdict(
    submission_id: int, status: str, accepted: set[int] | None
) -> Literal["accepted", "held"] | None:
    """None unless the workspace runs the Ladder and the submission succeeded."""
    if accepted is None or status != "succeeded":
        return None
    return "accepted" if submission_id in accepted else "held"


def _workspace(session: Session, name: str) -> Workspace:
    workspace = session.scalar(select(Workspace).where(Workspace.name == name))
    assert workspace is not None
    return workspace


def importance_units(workspace: Workspace) -> tuple[Literal["group", "feature"], list[str]]:
    """What importance is released over: the feature groups, or each feature when there is one group
    only (a single bar says nothing). The policy counts these units, so the top-k rule and its bits
    (privacy.channels "feature-group importance") hold either way."""
    groups = workspace.feature_groups or {}
    if len(groups) >= 2:
        return "group", list(groups)
    return "feature", [f for cols in groups.values() for f in cols]


def _energy_of_flop(flop: float, *, gpu: bool, grid: float) -> tuple[float, float]:
    """Energy of released compute (device time at the nominal peak rate): no new values, no exact time."""
    if gpu:
        energy = estimate_energy(cpu_seconds=0.0, gpu_seconds=flop / GPU_PEAK_FLOP_PER_S, grid_g_per_kwh=grid)
    else:
        energy = estimate_energy(cpu_seconds=flop / CPU_PEAK_FLOP_PER_CORE_S, grid_g_per_kwh=grid)
    return float(f"{energy.kwh:.6g}"), float(f"{energy.g_co2e:.6g}")
