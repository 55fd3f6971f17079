"""The owner's submission payload: exact numbers, frames and logs (never a contributor's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cohortbench.privacy.channels import loss_trend
from cohortbench.service import results
from cohortbench.service.public import (
    ErrorOwner,
    FrameOut,
    IntervalOut,
    RunOwner,
    SubmissionOwner,
)
from cohortbench.service.release.derived import _identity, _negative_transfer, _top_groups, _transfer, _trend
from cohortbench.service.release.policy import importance_units
from cohortbench.store.models import Workspace
from cohortbench.workspaces import estimate_energy


def _owner_submission(view: results.SubmissionView, workspace: Workspace, grid: float) -> SubmissionOwner:
    cpu = sum(float(r.resources.get("cpu_seconds") or 0.0) for r in view.runs)
    gpu = sum(float(r.resources.get("gpu_seconds") or 0.0) for r in view.runs)
    energy = estimate_energy(cpu_seconds=cpu, gpu_seconds=gpu, grid_g_per_kwh=grid)
    exact: dict[str, IntervalOut] = {}
    for r in view.runs:
        item = results.interval_of(r.headline, workspace.primary_metric, None)
        if item is not None:
            exact[r.phase] = IntervalOut(value=item.value, low=item.low, high=item.high)
    return SubmissionOwner(
        **_identity(view),
        compute_pflop=view.compute_pflop,
        energy_kwh=energy.kwh,
        co2e_g=energy.g_co2e,
        error=_error_owner(view.error),
        loss_trend=_trend(view),
        top_groups=_top_groups(view, len(importance_units(workspace)[1]), importance_units(workspace)[0]),
        transfer=_transfer(
            exact,
            view.claimed.get(workspace.primary_metric),
            _negative_transfer(view, workspace.primary_metric),
            owner=True,
        )
        if exact
        else None,
        runs=[
            RunOwner(
                phase=r.phase,
                status=r.status,
                error=_error_owner(r.error),
                losses=r.losses,
                loss_trend=loss_trend(r.losses),
                resources=r.resources,
                headline=r.headline,
                result=r.result,
            )
            for r in view.runs
        ],
        paired_transfer=view.paired_transfer,
    )


def _error_owner(error: Mapping[str, Any] | None) -> ErrorOwner | None:
    if not error:
        return None
    frames = [
        FrameOut(file=str(f.get("file")), line=int(f.get("line") or 0), function=str(f.get("function")))
        for f in error.get("frames") or []
        if isinstance(f, Mapping)
    ]
    return ErrorOwner(
        code=str(error.get("code") or "crashed"),
        exc_type=error.get("exc_type"),
        detail=error.get("detail"),
        frames=frames,
    )
