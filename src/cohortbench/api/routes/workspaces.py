"""Workspaces, rules, members, EDA, leaderboard."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel

from cohortbench.api.deps import CurrentUser, PlatformDep, SessionDep
from cohortbench.api.uploads import save_upload
from cohortbench.errors import PermissionDeniedError, ValidationError
from cohortbench.service import eda, release, workspaces
from cohortbench.service.access import get_workspace
from cohortbench.service.public import LeaderboardOut, WorkspaceCardOut, WorkspaceList
from cohortbench.workspaces import Rules

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])


class MemberIn(BaseModel):
    user: str
    role: str = "contributor"
    team: str | None = None


@router.get("", response_model=WorkspaceList)
def list_workspaces(session: SessionDep, user: CurrentUser) -> WorkspaceList:
    cards = release.cards(session, actor=user)
    return WorkspaceList(data=cards, count=len(cards))


@router.post("", status_code=201, response_model=WorkspaceCardOut)
async def create_workspace(
    platform: PlatformDep,
    session: SessionDep,
    user: CurrentUser,
    cohort: Annotated[UploadFile, File(description="CSV or Parquet table")],
    name: Annotated[str, Form()],
    title: Annotated[str, Form()],
    label_column: Annotated[str, Form()],
    id_column: Annotated[str, Form()],
    critical_class: Annotated[str, Form()],
    holdout_fraction: Annotated[float, Form()] = 0.2,
    split_seed: Annotated[int, Form()] = 0,
    rules: Annotated[str, Form(description="JSON object of rules")] = "{}",
    feature_groups: Annotated[str, Form(description="JSON object group -> columns")] = "{}",
    description: Annotated[str, Form()] = "",
) -> WorkspaceCardOut:
    """Create a workspace from an uploaded table (admins only: they host the data)."""
    if not user.is_admin:
        raise PermissionDeniedError("creating a workspace needs an administrator of this deployment")
    suffix = ".parquet" if (cohort.filename or "").endswith(".parquet") else ".csv"
    path = await save_upload(cohort, max_bytes=platform.settings.max_upload_bytes, suffix=suffix)
    try:
        frame = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:
        raise ValidationError(
            f"could not read the cohort table as {suffix[1:]}: {type(exc).__name__}"
        ) from None
    finally:
        path.unlink(missing_ok=True)
    workspace = workspaces.create_workspace(
        platform,
        session,
        actor=user,
        name=name,
        title=title,
        frame=frame,
        label_column=label_column,
        id_column=id_column,
        critical_class=critical_class,
        holdout_fraction=holdout_fraction,
        split_seed=split_seed,
        rules=Rules.from_dict(_json(rules, "rules")),
        feature_groups=_json(feature_groups, "feature_groups") or None,
        description=description,
    )
    session.flush()
    return release.card(session, workspace, user, "owner", details=True)


def _json(text: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{name} is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise ValidationError(f"{name} must be a JSON object")
    return value


@router.get("/{name}", response_model=WorkspaceCardOut)
def get_workspace_card(name: str, session: SessionDep, user: CurrentUser) -> WorkspaceCardOut:
    workspace, role = get_workspace(session, user, name)
    return release.card(session, workspace, user, role, details=True)


@router.patch("/{name}/rules")
def update_rules(
    name: str, changes: dict[str, Any], session: SessionDep, user: CurrentUser
) -> dict[str, Any]:
    reason = changes.pop("reason", None)
    return workspaces.update_rules(session, actor=user, name=name, changes=changes, reason=reason).to_dict()


@router.post("/{name}/publish")
def publish(name: str, session: SessionDep, user: CurrentUser) -> dict[str, str]:
    workspaces.publish(session, actor=user, name=name)
    return {"status": "published"}


@router.get("/{name}/members")
def list_members(name: str, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    rows = workspaces.members(session, actor=user, name=name)
    data = [{"user": u, "role": r, "team": t} for u, r, t in rows]
    return {"data": data, "count": len(data)}


@router.post("/{name}/members", status_code=201)
def add_member(name: str, member: MemberIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    workspaces.invite(
        session, actor=user, name=name, user_name=member.user, role=member.role, team=member.team
    )
    return member.model_dump()


@router.get("/{name}/eda")
def get_eda(name: str, platform: PlatformDep, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return eda.workspace_eda(platform, session, actor=user, name=name)


@router.get("/{name}/leaderboard", response_model=LeaderboardOut)
def get_leaderboard(name: str, session: SessionDep, user: CurrentUser) -> LeaderboardOut:
    """Ranked rows: released scores (on the workspace's grid) for members, exact for the owner."""
    return release.leaderboard(session, actor=user, workspace_name=name)
