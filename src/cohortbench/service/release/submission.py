"""A submission and the list of submissions, as the actor may see them: exact for the owner, released
for everyone else."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from cohortbench.privacy.channels import ReleasePolicy, coarsen_compute
from cohortbench.service import ladder, results
from cohortbench.service.public import (
    ErrorOut,
    SubmissionOut,
    SubmissionPublic,
    SubmissionSummary,
)
from cohortbench.service.release.derived import _identity, _negative_transfer, _top_groups, _transfer, _trend
from cohortbench.service.release.owner import _owner_submission
from cohortbench.service.release.policy import (
    FINAL,
    _energy_of_flop,
    _ladder_verdict,
    _workspace,
    importance_units,
    policy_of,
)
from cohortbench.service.release.runs import _error_out, _primary, _public_run
from cohortbench.service.submissions import list_submissions
from cohortbench.service.workspaces.rules import rules_of
from cohortbench.store.models import User, Workspace
from cohortbench.workspaces.energy import DEFAULT_GRID_G_PER_KWH


def submission(
    session: Session, *, actor: User, submission_id: int, grid_g_per_kwh: float = DEFAULT_GRID_G_PER_KWH
) -> SubmissionOut:
    """A submission as the actor may see it: exact for the owner, released for everyone else.

    `grid_g_per_kwh` is the deployment's carbon intensity (Settings.grid_g_per_kwh) for the CO2e.
    """
    view, role = results.submission_view(session, actor=actor, submission_id=submission_id)
    workspace = _workspace(session, view.workspace)
    verdict = _ladder_verdict(view.id, view.status, ladder.accepted(session, workspace))
    if role == "owner":
        return _owner_submission(view, workspace, grid_g_per_kwh).model_copy(update={"ladder": verdict})
    return _public_submission(view, workspace, policy_of(session, workspace), verdict, grid_g_per_kwh)


def summaries(
    session: Session, *, actor: User, workspace_name: str, grid_g_per_kwh: float = DEFAULT_GRID_G_PER_KWH
) -> list[SubmissionSummary]:
    """The submissions the actor may list, each with the same released numbers as its own page."""
    out = []
    for row in list_submissions(session, actor=actor, workspace_name=workspace_name):
        full = submission(session, actor=actor, submission_id=row.id, grid_g_per_kwh=grid_g_per_kwh)
        out.append(
            SubmissionSummary(
                id=full.id,
                workspace=full.workspace,
                contributor=full.contributor,
                name=full.name,
                framework=full.framework,
                status=full.status,
                created_at=full.created_at,
                compute_pflop=full.compute_pflop,
                error=ErrorOut(
                    code=full.error.code,
                    exc_type=full.error.exc_type,
                    detail=full.error.detail,
                    message=full.error.message,
                )
                if full.error
                else None,
            )
        )
    return out


def _public_submission(
    view: results.SubmissionView,
    workspace: Workspace,
    policy: ReleasePolicy,
    verdict: Literal["accepted", "held"] | None,
    grid: float,
) -> SubmissionPublic:
    """Released numbers; a submission the Ladder held shows none that the holdout decided."""
    final = view.status in FINAL
    held = verdict == "held"
    runs = [_public_run(r, view.status, final, workspace, policy, held=held) for r in view.runs]
    budget = rules_of(workspace).budget_pflop
    compute = coarsen_compute(view.compute_pflop, budget) if final else 0.0
    energy = _energy_of_flop(compute * 1e15, gpu=rules_of(workspace).resources.gpu > 0, grid=grid)
    scored = {r.phase: r for r in view.runs if r.headline and final}
    return SubmissionPublic(
        **_identity(view),
        score_step=policy.score_step,
        compute_pflop=compute,
        energy_kwh=energy[0],
        co2e_g=energy[1],
        error=_error_out(view.error, workspace, policy) if final else None,
        loss_trend=_trend(view) if final else "none",
        top_groups=_top_groups(view, policy.top_groups, importance_units(workspace)[0])
        if final and not held
        else [],
        transfer=_transfer(
            _primary(runs, workspace.primary_metric),
            view.claimed.get(workspace.primary_metric),
            _negative_transfer(view, workspace.primary_metric),
            owner=False,
        )
        if scored and not held
        else None,
        ladder=verdict,
        runs=runs,
    )
