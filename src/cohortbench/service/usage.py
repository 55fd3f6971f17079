"""Quota and compute use per member: what the owner's members table shows (owners only).

A contributor's own use is on their card (`workspaces.usage`, by team when they have one); the owner
sees each member's, since a sum over contributors against a per-contributor quota means nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.service.access import get_workspace, require
from cohortbench.service.workspaces import usage
from cohortbench.store.models import Membership, User


@dataclass(frozen=True)
class MemberUsage:
    """One member, their role and team, and the submissions and exact PF they (or their team) used."""

    user: str
    role: str
    team: str | None
    submissions_used: int
    quota: int
    compute_pflop: float


def member_usage(session: Session, *, actor: User, name: str, quota: int) -> list[MemberUsage]:
    """Every member's use of the quota (team members share theirs); owners only."""
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="reading each member's usage")
    rows = session.execute(
        select(User, Membership.role, Membership.team)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace.id)
        .order_by(User.name)
    )
    out = []
    for user, member_role, team in rows:
        used, pflop = usage(session, workspace, user)
        out.append(MemberUsage(user.name, member_role, team, used, quota, pflop))
    return out
