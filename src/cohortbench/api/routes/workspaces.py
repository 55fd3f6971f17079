"""Workspaces, rules, members, EDA, leaderboard."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import pydantic
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from cohortbench.api.deps import CurrentUser, PlatformDep, SessionDep
from cohortbench.api.encoding import accepts_gzip
from cohortbench.api.uploads import json_object, multipart_form, multipart_openapi
from cohortbench.errors import PermissionDeniedError, ValidationError
from cohortbench.service import boards, drift, eda, growth, holdup, label_audit, release, rerun, workspaces
from cohortbench.service.access import get_workspace, require
from cohortbench.service.board_cache import gzip_bytes
from cohortbench.service.public import (
    CohortVersionList,
    EdaOut,
    LeaderboardOut,
    MemberList,
    MemberOut,
    SchemaTwinOut,
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
BATCH_FILES = {"batch": "CSV or Parquet table of new records, the cohort's columns"}
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
    categorical: str = Field(
        "",
        max_length=10_000,
        description="Comma-separated columns to treat as categories (text columns always are)",
    )
    missing_labels: Literal["refuse", "drop"] = Field(
        "refuse", description="Records without a label: refuse the table, or drop them (the count is audited)"
    )


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
        categorical=[c.strip() for c in fields.categorical.split(",") if c.strip()],
        missing_labels=fields.missing_labels,
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


class GrowForm(BaseModel):
    """The text fields beside a batch of new records."""

    model_config = ConfigDict(extra="forbid")

    resplit: bool = Field(False, description="Re-split train/holdout (default: the holdout stays fixed)")
    reason: str = Field("", max_length=1000, description="Why (audit trail; required with resplit)")


@router.post(
    "/{name}/versions",
    status_code=201,
    response_model=CohortVersionList,
    openapi_extra=multipart_openapi(BATCH_FILES, GrowForm, required_files=("batch",)),
)
async def grow_cohort(
    name: str, request: Request, platform: PlatformDep, session: SessionDep, user: CurrentUser
) -> CohortVersionList:
    """Add a batch of records as a new cohort version (owners). The role is checked before the body is read."""
    _workspace, role = get_workspace(session, user, name)
    require(role, "owner", action="growing the cohort")
    session.rollback()  # no transaction held open while the body arrives
    async with multipart_form(
        request,
        files={"batch": ".upload"},
        fields=frozenset(GrowForm.model_fields),
        max_file_bytes=platform.settings.max_upload_bytes,
    ) as form:
        batch_file = form.file("batch")
        fields: GrowForm = form.validated(GrowForm)
        batch = _read_table(batch_file.path, parquet=batch_file.filename.endswith(".parquet"))
    growth.grow(
        platform,
        session,
        actor=user,
        name=name,
        batch=batch,
        resplit=fields.resplit,
        reason=fields.reason or None,
    )
    session.flush()
    return release.versions(platform, session, actor=user, workspace_name=name)


@router.get("/{name}/versions", response_model=CohortVersionList)
def list_versions(
    name: str, platform: PlatformDep, session: SessionDep, user: CurrentUser
) -> CohortVersionList:
    """The cohort versions: sizes for every member, class counts exact for the owner only."""
    return release.versions(platform, session, actor=user, workspace_name=name)


@router.get("/{name}/drift")
def get_drift(
    name: str,
    platform: PlatformDep,
    session: SessionDep,
    user: CurrentUser,
    reference: Annotated[int | None, Query(ge=1)] = None,
    current: Annotated[int | None, Query(ge=1)] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Owner only. `reference` and `current`: the records `current` added against `reference`'s;
    else the holdout of `version` (default: the latest) against its train split."""
    if reference is not None or current is not None:
        if reference is None or current is None:
            raise ValidationError(
                "give both reference and current versions (or neither, for train vs holdout)"
            )
        report = drift.between_versions(
            platform, session, actor=user, name=name, reference=reference, current=current
        )
    else:
        report = drift.train_holdout(platform, session, actor=user, name=name, version=version)
    return report.to_dict()


@router.post("/{name}/label-audit")
def post_label_audit(
    name: str,
    platform: PlatformDep,
    session: SessionDep,
    user: CurrentUser,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Owner only, audited: suspect labels (record id, given and suggested label), most suspect first."""
    return label_audit.audit_cohort(platform, session, actor=user, name=name, version=version).to_dict()


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


class WorkspacePatch(BaseModel):
    """A new description and/or feature groups (a groups.toml table as JSON), and why."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(None, max_length=10_000)
    feature_groups: dict[Annotated[str, Field(max_length=200)], list[str] | dict[str, str]] | None = None
    reason: str | None = Field(None, max_length=1000)


@router.patch("/{name}", response_model=WorkspaceCardOut)
def update_workspace(
    name: str, body: WorkspacePatch, platform: PlatformDep, session: SessionDep, user: CurrentUser
) -> WorkspaceCardOut:
    """Change the description or the feature groups (owners; groups only before the first submission)."""
    from cohortbench.service import describe

    workspace = describe.update_workspace(
        platform,
        session,
        actor=user,
        name=name,
        description=body.description,
        groups=body.feature_groups,
        reason=body.reason,
    )
    session.flush()
    return release.card(session, workspace, user, "owner", details=True)


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


@router.get("/{name}/schema", response_model=SchemaTwinOut)
def get_schema(name: str, platform: PlatformDep, session: SessionDep, user: CurrentUser) -> SchemaTwinOut:
    """The schema twin for `cohortbench check --url`: columns, classes and coarse ranges derived from
    the released EDA (any member; nothing beyond what the EDA page shows)."""
    released = eda.workspace_eda(platform, session, actor=user, name=name)
    return release.schema_twin(platform, session, actor=user, name=name, eda=released)


@router.get(
    "/{name}/leaderboard",
    response_model=LeaderboardOut,
    responses={304: {"description": "Not modified: the board is the one of the ETag sent in If-None-Match"}},
)
def get_leaderboard(
    name: str,
    request: Request,
    platform: PlatformDep,
    session: SessionDep,
    user: CurrentUser,
    version: Annotated[int | None, Query(ge=1, description="Only this cohort version's submissions")] = None,
    offset: Annotated[int, Query(ge=0, description="Skip this many ranked rows (a page)")] = 0,
    limit: Annotated[int | None, Query(ge=1, description="At most this many rows (default: all)")] = None,
) -> Response:
    """Ranked rows: released scores (on the workspace's grid) for members, exact for the owner.

    The whole board (or the page `offset`/`limit` of its ranked rows) is served from the board
    cache (service.boards) with an ETag; `If-None-Match` with the current ETag answers 304 without
    a body. With `Accept-Encoding: gzip` the body comes gzip-compressed, compressed once per board
    and kept (its ETag is then the weak form of the same tag). A per-version board is built each time.
    """
    gzip = accepts_gzip(request.headers.get("accept-encoding", ""))
    if version is not None:
        board = release.leaderboard(
            session, actor=user, workspace_name=name, grid_g_per_kwh=platform.settings.grid_g_per_kwh,
            version=version,
        )  # fmt: skip
        if offset or limit is not None:
            stop = None if limit is None else offset + limit
            board = board.model_copy(update={"rows": board.rows[offset:stop]})
        body = board.model_dump_json().encode()
        if gzip:
            return _json(gzip_bytes(body), {"Vary": BOARD_VARY, "Content-Encoding": "gzip"})
        return _json(body, {"Vary": BOARD_VARY})
    served = boards.leaderboard(
        platform.boards, session, actor=user, workspace_name=name,
        grid_g_per_kwh=platform.settings.grid_g_per_kwh, offset=offset, limit=limit,
    )  # fmt: skip
    headers = {"ETag": f"W/{served.etag}" if gzip else served.etag, "Vary": BOARD_VARY}
    sent = _etags(request.headers.get("if-none-match", ""))
    if served.etag in sent or "*" in sent:
        return Response(status_code=304, headers=headers)
    if gzip:
        return _json(platform.boards.gzipped(served), {**headers, "Content-Encoding": "gzip"})
    return _json(served.body(), headers)


#: a board depends on who asks and on the encodings they take
BOARD_VARY = "Authorization, Cookie, Accept-Encoding"


def _json(body: bytes, headers: dict[str, str]) -> Response:
    return Response(body, media_type="application/json", headers=headers)


def _etags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header, compared weakly (RFC 9110 13.1.2): by their opaque part."""
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


class RerunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="Cohort version to re-run on")
    submissions: list[int] | None = Field(None, max_length=1000, description="Default: every succeeded one")


@router.post("/{name}/reruns", status_code=201)
def post_rerun(name: str, body: RerunIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Queue re-runs of stored bundles on another cohort version (owners; charged to the owner)."""
    made = rerun.rerun(session, actor=user, name=name, version=body.version, submission_ids=body.submissions)
    return {"version": body.version, "reruns": {str(m.rerun_of): m.id for m in made}}


@router.get("/{name}/holdup")
def get_holdup(
    name: str, platform: PlatformDep, session: SessionDep, user: CurrentUser
) -> list[dict[str, Any]]:
    """Each model's score per cohort version and whether it dropped significantly (owners)."""
    rows = holdup.holds_up(platform, session, actor=user, name=name)
    return [{**asdict(r), "dropped": r.dropped} for r in rows]
