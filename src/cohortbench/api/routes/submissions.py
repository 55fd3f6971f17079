"""Submissions: upload a bundle, follow its runs, read its results, cancel it."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import PlainTextResponse

from cohortbench.api.deps import CurrentUser, PlatformDep, SessionDep
from cohortbench.api.uploads import save_upload
from cohortbench.errors import ValidationError
from cohortbench.service import owner, release, submissions
from cohortbench.service.public import SubmissionList, SubmissionOut, SubmissionSummary

router = APIRouter(prefix="/api/v1", tags=["submissions"])


@router.post("/workspaces/{name}/submissions", status_code=201, response_model=SubmissionOut)
async def create_submission(
    name: str,
    platform: PlatformDep,
    session: SessionDep,
    user: CurrentUser,
    bundle: Annotated[UploadFile, File(description="The bundle as a .zip")],
    plan: Annotated[str, Form(description="JSON plan overrides")] = "{}",
    claimed: Annotated[str, Form(description="JSON claimed metrics")] = "",
) -> SubmissionOut:
    """Submit a bundle; it is validated before the quota is charged."""
    path = await save_upload(bundle, max_bytes=platform.settings.max_upload_bytes, suffix=".zip")
    try:
        submission = submissions.submit(
            platform,
            session,
            actor=user,
            workspace_name=name,
            bundle=path,
            plan=_json(plan, "plan"),
            claimed=_json(claimed, "claimed") if claimed else None,
        )
    finally:
        path.unlink(missing_ok=True)
    session.flush()
    return release.submission(session, actor=user, submission_id=submission.id)


def _json(text: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{name} is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise ValidationError(f"{name} must be a JSON object")
    return value


@router.get("/workspaces/{name}/submissions", response_model=SubmissionList)
def list_submissions(name: str, session: SessionDep, user: CurrentUser) -> SubmissionList:
    data: list[SubmissionSummary] = release.summaries(session, actor=user, workspace_name=name)
    return SubmissionList(data=data, count=len(data))


@router.get("/submissions/{submission_id}", response_model=SubmissionOut)
def get_submission(submission_id: int, session: SessionDep, user: CurrentUser) -> SubmissionOut:
    """A submission with its runs: released numbers for its contributor, exact ones for the owner."""
    return release.submission(session, actor=user, submission_id=submission_id)


@router.post("/submissions/{submission_id}/cancel")
def cancel_submission(submission_id: int, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    submissions.cancel(session, actor=user, submission_id=submission_id)
    return {"id": submission_id, "status": "cancelled"}


@router.get("/submissions/{submission_id}/runs/{phase}/log", response_class=PlainTextResponse)
def owner_log(
    submission_id: int, phase: str, platform: PlatformDep, session: SessionDep, user: CurrentUser
) -> str:
    """The run's stdout/stderr and exception text: owners only (it may hold patient values)."""
    return owner.run_log(platform, session, actor=user, submission_id=submission_id, phase=phase)
