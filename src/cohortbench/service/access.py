"""Who may do what in a workspace. Unknown or invisible things are reported as not found."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.errors import NotFoundError, PermissionDeniedError
from cohortbench.store.models import Membership, User, Workspace

Role = Literal["owner", "contributor", "viewer"]
ROLES: tuple[str, ...] = ("owner", "contributor", "viewer")


def role_in(session: Session, user: User, workspace: Workspace) -> str | None:
    """The user's role in the workspace (admins act as owners), or None for non-members."""
    if user.is_admin or workspace.owner_id == user.id:
        return "owner"
    membership = session.scalar(
        select(Membership).where(Membership.workspace_id == workspace.id, Membership.user_id == user.id)
    )
    return membership.role if membership else None


def get_workspace(session: Session, user: User, name: str) -> tuple[Workspace, str]:
    """A workspace the user is a member of, with their role; non-members get 'not found'."""
    workspace = session.scalar(select(Workspace).where(Workspace.name == name))
    role = role_in(session, user, workspace) if workspace else None
    if workspace is None or role is None:
        raise NotFoundError(f"no workspace named {name!r}")
    return workspace, role


def require(role: str | None, *allowed: str, action: str) -> None:
    """Raise PermissionDeniedError unless `role` is one of `allowed`."""
    if role not in allowed:
        raise PermissionDeniedError(
            f"{action} needs the role {' or '.join(allowed)}; you are {role or 'not a member'}"
        )
