"""Workspace cards and cohort versions as a member may see them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.privacy import protect_counts
from cohortbench.privacy.channels import coarsen_compute
from cohortbench.service import growth, workspaces
from cohortbench.service.access import get_workspace
from cohortbench.service.platform import Platform
from cohortbench.service.public import (
    CohortVersionList,
    CohortVersionOut,
    WorkspaceCardOut,
)
from cohortbench.service.release.policy import FINAL, policy_of
from cohortbench.service.workspaces.rules import rules_of
from cohortbench.store.models import Submission, User, Workspace


def card(
    session: Session, workspace: Workspace, actor: User, role: str, *, details: bool = False
) -> WorkspaceCardOut:
    """A workspace card; a contributor's compute used is the sum of their released per-submission figures."""
    base = workspaces.card(session, workspace, actor, role)
    policy = policy_of(session, workspace)
    used = base.compute_used_pflop if role == "owner" else _released_compute(session, workspace, actor)
    data = {k: getattr(base, k) for k in WorkspaceCardOut.model_fields if hasattr(base, k)}
    data.update(compute_used_pflop=used, score_step=policy.score_step)
    if details:
        data["rules"] = rules_of(workspace).to_dict()
        data["feature_groups"] = {k: len(v) for k, v in (workspace.feature_groups or {}).items()}
    return WorkspaceCardOut(**data)


def _released_compute(session: Session, workspace: Workspace, actor: User) -> float:
    budget = rules_of(workspace).budget_pflop
    team = workspaces.team_of(session, workspace, actor)
    query = select(Submission.compute_pflop, Submission.status).where(Submission.workspace_id == workspace.id)
    query = query.where(Submission.team == team) if team else query.where(Submission.user_id == actor.id)
    total = sum(
        coarsen_compute(float(pflop or 0.0), budget)
        for pflop, status in session.execute(query)
        if status in FINAL
    )
    return float(f"{total:.6g}")


def cards(session: Session, *, actor: User) -> list[WorkspaceCardOut]:
    """Cards of the workspaces the actor belongs to; one that cannot be built is left out and logged."""
    return workspaces.cards_of_members(session, actor, card)


def versions(platform: Platform, session: Session, *, actor: User, workspace_name: str) -> CohortVersionList:
    """The cohort versions: sizes for every member; class counts exact for the owner.

    A contributor gets the latest version's class counts under the small-cell rule (as on the EDA
    page) and none for earlier versions: two versions' counts side by side would give each batch's
    counts by difference, a small cell included.
    """
    workspace, role = get_workspace(session, actor, workspace_name)
    views = growth.versions(platform, session, workspace)
    out = []
    for i, v in enumerate(views):
        if role == "owner":
            counts: dict[str, int | None] | None = dict(v.class_counts)
        elif i == len(views) - 1:
            cells = protect_counts(v.class_counts).cells
            counts = {k: None if c.value is None else int(c.value) for k, c in cells.items()}
        else:
            counts = None
        out.append(
            CohortVersionOut(
                version=v.version,
                created_at=v.created_at.isoformat(),
                n_records=v.n_records,
                n_train=v.n_train,
                n_holdout=v.n_holdout,
                holdout_fixed=v.holdout_fixed,
                class_counts=counts,
            )
        )
    return CohortVersionList(data=out, count=len(out))
