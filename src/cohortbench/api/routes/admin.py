"""Users, tokens and the audit trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from cohortbench.api.deps import CurrentUser, SessionDep
from cohortbench.errors import PermissionDeniedError
from cohortbench.service import owner, users
from cohortbench.service.public import MeOut

router = APIRouter(prefix="/api/v1", tags=["admin"])


class UserIn(BaseModel):
    """Lengths as the columns hold them (PostgreSQL refuses longer values with a 500 otherwise)."""

    name: str = Field(max_length=64)
    display_name: str | None = Field(None, max_length=200)
    is_admin: bool = False


@router.get("/me", response_model=MeOut)
def me(user: CurrentUser) -> MeOut:
    return MeOut(name=user.name, display_name=user.display_name, is_admin=user.is_admin)


@router.post("/users", status_code=201)
def create_user(body: UserIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Create a user; the response carries its API token, shown this once."""
    if not user.is_admin:
        raise PermissionDeniedError("creating users needs an administrator")
    new, token = users.create_user(
        session, name=body.name, display_name=body.display_name, is_admin=body.is_admin, actor=user.name
    )
    return {"name": new.name, "token": token}


@router.get("/workspaces/{name}/audit")
def workspace_audit(name: str, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """The audit entries about a workspace (owners only)."""
    entries = owner.workspace_audit(session, actor=user, name=name)
    return {"data": entries, "count": len(entries)}


@router.get("/audit/verify")
def verify_audit(session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    if not user.is_admin:
        raise PermissionDeniedError("verifying the audit chain needs an administrator")
    return owner.verify_audit(session)
