"""Submissions: upload a bundle, follow its runs, read its results, cancel it."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import PlainTextResponse

from cohortbench.api.deps import CurrentUser, PlatformDep, SessionDep
from cohortbench.api.uploads import save_upload
from cohortbench.errors import ValidationError
from cohortbench.service import owner, results, submissions

router = APIRouter(prefix="/api/v1", tags=["submissions"])


def _summary(view: results.SubmissionView) -> dict[str, Any]:
    data = asdict(view)
    data.pop("runs")
    return data


@router.post("/workspaces/{name}/submissions", status_code=201)
async def create_submission(
    name: str,
    platform: PlatformDep,
    session: SessionDep,
    user: CurrentUser,
    bundle: Annotated[UploadFile, File(description="The bundle as a .zip")],
    plan: Annotated[str, Form(description="JSON plan overrides")] = "{}",
    claimed: Annotated[str, Form(description="JSON claimed metrics")] = "",
) -> dict[str, Any]:
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
    return _summary(results.submission_view(session, actor=user, submission_id=submission.id))


def _json(text: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{name} is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise ValidationError(f"{name} must be a JSON object")
    return value


@router.get("/workspaces/{name}/submissions")
def list_submissions(name: str, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    rows = submissions.list_submissions(session, actor=user, workspace_name=name)
    data = [_summary(results.submission_view(session, actor=user, submission_id=s.id)) for s in rows]
    return {"data": data, "count": len(data)}


@router.get("/submissions/{submission_id}")
def get_submission(submission_id: int, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """A submission with its runs and scored results (its contributor or the owner only)."""
    return asdict(results.submission_view(session, actor=user, submission_id=submission_id))


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
