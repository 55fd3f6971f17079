"""Workspaces, rules, members, EDA, leaderboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import pydantic
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from cohortbench.api.deps import CurrentUser, PlatformDep, SessionDep
from cohortbench.api.uploads import json_object, multipart_form, multipart_openapi
from cohortbench.errors import PermissionDeniedError, ValidationError
from cohortbench.service import boards, eda, release, workspaces
from cohortbench.service.access import get_workspace
from cohortbench.service.public import (
    EdaOut,
    LeaderboardOut,
    MemberList,
    MemberOut,
    WorkspaceCardOut,
    WorkspaceList,
)
from cohortbench.workspaces import Rules, RulesChange
from cohortbench.workspaces.rules import explain

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])


class MemberIn(BaseModel):
    user: str = Field(max_length=64)
    role: str = Field("contributor", max_length=16)
    team: str | None = Field(None, max_length=64)


@router.get("", response_model=WorkspaceList)
def list_workspaces(session: SessionDep, user: CurrentUser) -> WorkspaceList:
    cards = release.cards(session, actor=user)
    return WorkspaceList(data=cards, count=len(cards))


COHORT_FILES = {"cohort": "CSV or Parquet table"}
_GROUPS = TypeAdapter(dict[Annotated[str, Field(max_length=200)], list[str]])


class WorkspaceForm(BaseModel):
    """The text fields beside the cohort table."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64, description="Lowercase slug (letters, digits, -)")
    title: str = Field(max_length=200)
    label_column: str = Field(max_length=200)
    id_column: str = Field(max_length=200)
    critical_class: str = Field(max_length=200)
    holdout_fraction: float = Field(0.2, ge=0.05, le=0.5, allow_inf_nan=False)
    split_seed: int = Field(0, ge=0, le=2**32 - 1)
    rules: str = Field("{}", description="JSON object of rules")
    feature_groups: str = Field("{}", description="JSON object group -> columns")
    description: str = Field("", max_length=10_000)


@router.post(
    "",
    status_code=201,
    response_model=WorkspaceCardOut,
    openapi_extra=multipart_openapi(COHORT_FILES, WorkspaceForm, required_files=("cohort",)),
)
async def create_workspace(
    request: Request, platform: PlatformDep, session: SessionDep, user: CurrentUser
) -> WorkspaceCardOut:
    """Create a workspace from an uploaded table (admins only: they host the data).

    The role is checked before the body is read; the table is streamed to a temp file under the
    deployment's upload limit (413 as soon as it is passed).
    """
    if not user.is_admin:
        raise PermissionDeniedError("creating a workspace needs an administrator of this deployment")
    session.rollback()  # no transaction held open while the body arrives
    async with multipart_form(
        request,
        files={"cohort": ".upload"},
        fields=frozenset(WorkspaceForm.model_fields),
        max_file_bytes=platform.settings.max_upload_bytes,
    ) as form:
        cohort = form.file("cohort")
        fields: WorkspaceForm = form.validated(WorkspaceForm)
        rules = Rules.from_dict(json_object(fields.rules, "rules"))
        groups = _feature_groups(fields.feature_groups)
        frame = _read_table(cohort.path, parquet=cohort.filename.endswith(".parquet"))
    workspace = workspaces.create_workspace(
        platform,
        session,
        actor=user,
        name=fields.name,
        title=fields.title,
        frame=frame,
        label_column=fields.label_column,
        id_column=fields.id_column,
        critical_class=fields.critical_class,
        holdout_fraction=fields.holdout_fraction,
        split_seed=fields.split_seed,
        rules=rules,
        feature_groups=groups or None,
        description=fields.description,
    )
    session.flush()
    return release.card(session, workspace, user, "owner", details=True)


def _read_table(path: Path, *, parquet: bool) -> pd.DataFrame:
    try:
        return pd.read_parquet(path) if parquet else pd.read_csv(path)
    except Exception as exc:
        raise ValidationError(
            f"could not read the cohort table as {'parquet' if parquet else 'csv'}: {type(exc).__name__}"
        ) from None


def _feature_groups(text: str) -> dict[str, list[str]]:
    try:
        groups: dict[str, list[str]] = _GROUPS.validate_python(json_object(text, "feature_groups"))
    except pydantic.ValidationError as exc:
        raise ValidationError(f"feature_groups: {explain(exc)}") from None
    return groups


@router.get("/{name}", response_model=WorkspaceCardOut)
def get_workspace_card(name: str, session: SessionDep, user: CurrentUser) -> WorkspaceCardOut:
    workspace, role = get_workspace(session, user, name)
    return release.card(session, workspace, user, role, details=True)


class RulesPatch(RulesChange):
    """Some rules to change, and why (kept in the audit trail)."""

    reason: str | None = Field(None, max_length=1000)


@router.patch("/{name}/rules")
def update_rules(name: str, body: RulesPatch, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Change some rules (owners). Each field is typed and bounded; unknown fields are refused (422)."""
    changes = body.changes()
    reason = changes.pop("reason", None)
    return workspaces.update_rules(session, actor=user, name=name, changes=changes, reason=reason).to_dict()


@router.post("/{name}/publish")
def publish(name: str, session: SessionDep, user: CurrentUser) -> dict[str, str]:
    workspaces.publish(session, actor=user, name=name)
    return {"status": "published"}


@router.get("/{name}/members", response_model=MemberList)
def list_members(name: str, session: SessionDep, user: CurrentUser) -> MemberList:
    rows = workspaces.members(session, actor=user, name=name)
    data = [MemberOut(user=u, role=r, team=t) for u, r, t in rows]
    return MemberList(data=data, count=len(data))


@router.post("/{name}/members", status_code=201)
def add_member(name: str, member: MemberIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    workspaces.invite(
        session, actor=user, name=name, user_name=member.user, role=member.role, team=member.team
    )
    return member.model_dump()


@router.get("/{name}/eda", response_model=EdaOut)
def get_eda(name: str, platform: PlatformDep, session: SessionDep, user: CurrentUser) -> EdaOut:
    """Released aggregates only: small cells suppressed, no extremes (DP noise when the owner enables it)."""
    return EdaOut(**eda.workspace_eda(platform, session, actor=user, name=name))


@router.get(
    "/{name}/leaderboard",
    response_model=LeaderboardOut,
    responses={304: {"description": "Not modified: the board is the one of the ETag sent in If-None-Match"}},
)
def get_leaderboard(
    name: str, request: Request, platform: PlatformDep, session: SessionDep, user: CurrentUser
) -> Response:
    """Ranked rows: released scores (on the workspace's grid) for members, exact for the owner.

    Served from the board cache (service.boards) with an ETag; `If-None-Match` with the current
    ETag answers 304 without a body.
    """
    served = boards.leaderboard(
        platform.boards, session, actor=user, workspace_name=name,
        grid_g_per_kwh=platform.settings.grid_g_per_kwh,
    )  # fmt: skip
    headers = {"ETag": served.etag, "Vary": "Authorization, Cookie"}
    if served.etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    return Response(served.body(), media_type="application/json", headers=headers)


def _etags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compared by their opaque part)."""
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}
