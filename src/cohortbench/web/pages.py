"""The HTML pages: thin routes that check the sign-in cookie, build a view and render a template.

Anonymous visitors are sent to /signin; things a user may not know exist are answered with the
same 404 page as things that do not exist (as the REST API does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from cohortbench.errors import CohortbenchError, NotFoundError, PermissionDeniedError
from cohortbench.http_deps import PlatformDep, SessionDep, SubmissionId
from cohortbench.service.users import authenticate
from cohortbench.store.models import User
from cohortbench.web import views
from cohortbench.web.auth import (
    CSRF_FIELD,
    csrf_ok,
    new_csrf_token,
    safe_next,
    signed_in,
    to_signin,
    with_cookie,
    with_csrf_cookie,
    without_cookie,
)
from cohortbench.web.render import STATIC_DIR, render
from cohortbench.web.report import issue_report
from cohortbench.web.sorting import sort_link

router = APIRouter(include_in_schema=False)

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def html(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(template, **context), status_code=status, headers=HEADERS)


def page(
    request: Request, session: SessionDep, template: str, build: Callable[[User], dict[str, Any]]
) -> Response:
    """Sign-in check, view, template; a NotFound/PermissionDenied from the service becomes an HTML error."""
    user = signed_in(request, session)
    if user is None:
        return to_signin(request)
    try:
        context = build(user)
    except NotFoundError as exc:
        return html("error.html", 404, user=user, title="Not found", message=exc.message)
    except PermissionDeniedError as exc:
        return html("error.html", 403, user=user, title="Not allowed", message=exc.message)
    except CohortbenchError as exc:  # e.g. rules stored before they were validated: this page's error
        return html("error.html", 409, user=user, title="Cannot show this page", message=exc.message)
    return html(template, user=user, path=request.url.path, sort_link=sort_link, **context)


@router.get("/static/style.css")
def stylesheet() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "style.css", media_type="text/css", headers={"Cache-Control": "max-age=300"}
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    return page(request, session, "workspaces.html", lambda user: views.workspaces_page(session, user))


def signin_page(request: Request, status: int = 200, *, next: str, error: str | None) -> HTMLResponse:
    """The sign-in form with a fresh CSRF token, in its hidden field and its cookie."""
    token = new_csrf_token()
    response = html("signin.html", status, user=None, next=next, error=error, csrf=token)
    return with_csrf_cookie(response, token, secure=request.url.scheme == "https")


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: Annotated[str | None, Query()] = None) -> HTMLResponse:
    return signin_page(request, next=safe_next(next), error=None)


@router.post("/signin")
async def signin(request: Request, session: SessionDep) -> Response:
    form = await request.form(max_files=0, max_fields=8)  # a sign-in takes no file: nothing spooled to disk
    token, target = str(form.get("token") or "").strip(), safe_next(str(form.get("next") or "/"))
    if not csrf_ok(request, str(form.get(CSRF_FIELD) or "")):
        return signin_page(request, 403, next=target, error="The sign-in form expired; please sign in again.")
    try:
        authenticate(session, token)
    except PermissionDeniedError:
        return signin_page(request, 401, next=target, error="That token is not valid (or was revoked).")
    return with_cookie(RedirectResponse(target, status_code=303), token, secure=request.url.scheme == "https")


@router.post("/signout")
def signout() -> Response:
    return without_cookie(RedirectResponse("/signin", status_code=303))


@router.get("/w/{name}", response_class=HTMLResponse)
def overview(request: Request, platform: PlatformDep, session: SessionDep, name: str) -> Response:
    return page(
        request, session, "overview.html", lambda user: views.overview_page(platform, session, user, name)
    )


@router.get("/w/{name}/eda", response_class=HTMLResponse)
def eda(
    request: Request, platform: PlatformDep, session: SessionDep, name: str, q: str = "", p: int = 1
) -> Response:
    """`q` filters the list of every feature by name or group, `p` pages it."""
    return page(
        request,
        session,
        "eda.html",
        lambda user: views.eda_page(platform, session, user, name, q=q[:200], p=p),
    )


@router.get("/w/{name}/leaderboard", response_class=HTMLResponse)
def leaderboard(
    request: Request,
    platform: PlatformDep,
    session: SessionDep,
    name: str,
    sort: str | None = None,
    order: str | None = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    return page(
        request,
        session,
        "leaderboard.html",
        lambda user: views.leaderboard_page(platform, session, user, name, sort, order, version),
    )


@router.get("/s/{submission_id}", response_class=HTMLResponse)
def submission(
    request: Request, platform: PlatformDep, session: SessionDep, submission_id: SubmissionId
) -> Response:
    return page(
        request,
        session,
        "submission.html",
        lambda user: views.submission_page(platform, session, user, submission_id),
    )


@router.get("/s/{submission_id}/report", response_class=HTMLResponse)
def report(
    request: Request,
    platform: PlatformDep,
    session: SessionDep,
    submission_id: SubmissionId,
    download: bool = False,
) -> Response:
    """The evidence report of one submission (owner, or the contributor who submitted it)."""
    user = signed_in(request, session)
    if user is None:
        return to_signin(request)
    try:
        body = issue_report(platform, session, actor=user, submission_id=submission_id)
    except NotFoundError as exc:
        return html("error.html", 404, user=user, title="Not found", message=exc.message)
    headers = dict(HEADERS)
    if download:
        headers["Content-Disposition"] = f'attachment; filename="cohortbench-report-{submission_id}.html"'
    return HTMLResponse(body, headers=headers)
