"""Who belongs to a workspace, in which role and team (owners invite and list members)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.errors import ValidationError
from cohortbench.service.access import ROLES, get_workspace, require
from cohortbench.service.users import get_user
from cohortbench.store import audit
from cohortbench.store.models import Membership, User, Workspace


def invite(
    session: Session,
    *,
    actor: User,
    name: str,
    user_name: str,
    role: str = "contributor",
    team: str | None = None,
) -> Membership:
    """Add a member (or change their role / team)."""
    workspace, actor_role = get_workspace(session, actor, name)
    require(actor_role, "owner", action="inviting members")
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    user = get_user(session, user_name)
    membership = session.scalar(
        select(Membership).where(Membership.workspace_id == workspace.id, Membership.user_id == user.id)
    )
    old = membership.role if membership else None
    if membership is None:
        membership = Membership(workspace_id=workspace.id, user_id=user.id, role=role, team=team)
        session.add(membership)
    else:
        membership.role, membership.team = role, team
    audit.append(
        session,
        actor=actor.name,
        action="member.role",
        target=f"workspace:{name}/user:{user_name}",
        payload={"old": old, "new": role, "team": team},
    )
    return membership


def members(session: Session, *, actor: User, name: str) -> list[tuple[str, str, str | None]]:
    """(user, role, team) of every member; owners only."""
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="listing members")
    rows = session.execute(
        select(User.name, Membership.role, Membership.team)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace.id)
        .order_by(User.name)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def team_of(session: Session, workspace: Workspace, user: User) -> str | None:
    return session.scalar(
        select(Membership.team).where(Membership.workspace_id == workspace.id, Membership.user_id == user.id)
    )
