"""Submissions: upload a bundle, follow its runs, read its results, cancel it."""

from __future__ import annotations

from typing import Annotated

import pydantic
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from cohortbench.api.deps import CurrentUser, PlatformDep, SessionDep, SubmissionId
from cohortbench.api.uploads import json_object, multipart_form, multipart_openapi
from cohortbench.errors import ValidationError
from cohortbench.service import owner, release, submissions
from cohortbench.service.access import get_workspace, require
from cohortbench.service.public import CancelOut, SubmissionList, SubmissionOut, SubmissionSummary
from cohortbench.workspaces.rules import explain

router = APIRouter(prefix="/api/v1", tags=["submissions"])


BUNDLE_FILES = {"bundle": "The bundle as a .zip"}
_CLAIMED = TypeAdapter(
    dict[Annotated[str, Field(max_length=100)], Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]]
)


class SubmissionForm(BaseModel):
    """The text fields beside the bundle (JSON objects, as the SDK sends them)."""

    model_config = ConfigDict(extra="forbid")

    plan: str = Field("{}", description="JSON plan overrides")
    claimed: str = Field("", description="JSON claimed metrics")


@router.post(
    "/workspaces/{name}/submissions",
    status_code=201,
    response_model=SubmissionOut,
    openapi_extra=multipart_openapi(BUNDLE_FILES, SubmissionForm, required_files=("bundle",)),
)
async def create_submission(
    name: str, request: Request, platform: PlatformDep, session: SessionDep, user: CurrentUser
) -> SubmissionOut:
    """Submit a bundle; it is validated before the quota is charged.

    The caller's token and role are checked before the body is read; the body is streamed to a
    temp file and refused (413) as soon as it passes the deployment's upload limit.
    """
    _workspace, role = get_workspace(session, user, name)
    require(role, "contributor", "owner", action="submitting")
    session.rollback()  # no transaction held open while the body arrives
    async with multipart_form(
        request,
        files={"bundle": ".zip"},
        fields=frozenset(SubmissionForm.model_fields),
        max_file_bytes=platform.settings.max_upload_bytes,
    ) as form:
        bundle = form.file("bundle")
        fields: SubmissionForm = form.validated(SubmissionForm)
        submission = submissions.submit(
            platform,
            session,
            actor=user,
            workspace_name=name,
            bundle=bundle.path,
            plan=json_object(fields.plan, "plan"),
            claimed=_claimed(fields.claimed),
        )
    session.flush()
    return release.submission(
        session, actor=user, submission_id=submission.id, grid_g_per_kwh=platform.settings.grid_g_per_kwh
    )


def _claimed(text: str) -> dict[str, float] | None:
    """Claimed metrics: names to finite numbers in [0, 1] (the service re-checks the range)."""
    if not text:
        return None
    try:
        claimed: dict[str, float] = _CLAIMED.validate_python(json_object(text, "claimed"))
    except pydantic.ValidationError as exc:
        raise ValidationError(f"claimed: {explain(exc)}") from None
    return claimed


@router.get("/workspaces/{name}/submissions", response_model=SubmissionList)
def list_submissions(
    name: str, platform: PlatformDep, session: SessionDep, user: CurrentUser
) -> SubmissionList:
    data: list[SubmissionSummary] = release.summaries(
        session, actor=user, workspace_name=name, grid_g_per_kwh=platform.settings.grid_g_per_kwh
    )
    return SubmissionList(data=data, count=len(data))


@router.get("/submissions/{submission_id}", response_model=SubmissionOut)
def get_submission(
    submission_id: SubmissionId, platform: PlatformDep, session: SessionDep, user: CurrentUser
) -> SubmissionOut:
    """A submission with its runs: released numbers for its contributor, exact ones for the owner."""
    return release.submission(
        session, actor=user, submission_id=submission_id, grid_g_per_kwh=platform.settings.grid_g_per_kwh
    )


@router.post("/submissions/{submission_id}/cancel", response_model=CancelOut)
def cancel_submission(submission_id: SubmissionId, session: SessionDep, user: CurrentUser) -> CancelOut:
    submissions.cancel(session, actor=user, submission_id=submission_id)
    return CancelOut(id=submission_id, status="cancelled")


@router.get("/submissions/{submission_id}/runs/{phase}/log", response_class=PlainTextResponse)
def owner_log(
    submission_id: SubmissionId, phase: str, platform: PlatformDep, session: SessionDep, user: CurrentUser
) -> str:
    """The run's stdout/stderr and exception text: owners only (it may hold patient values)."""
    return owner.run_log(platform, session, actor=user, submission_id=submission_id, phase=phase)
