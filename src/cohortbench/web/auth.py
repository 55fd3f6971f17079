"""Sign-in for the pages: an API token pasted once becomes an httponly, same-site-strict cookie.

The cookie holds the token itself (as the REST API's bearer does), never readable by scripts and
never sent on cross-site requests, which is what stops a third-party page from acting for the user.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from cohortbench.api.deps import TOKEN_COOKIE, bearer_token
from cohortbench.errors import PermissionDeniedError
from cohortbench.service.users import authenticate
from cohortbench.store.models import User

SIGNIN_PATH = "/signin"


def signed_in(request: Request, session: Session) -> User | None:
    """The user of the request's cookie (or bearer header), or None when absent, wrong or revoked."""
    try:
        return authenticate(session, bearer_token(request))
    except PermissionDeniedError:
        return None


def to_signin(request: Request) -> RedirectResponse:
    """Send an anonymous visitor to the sign-in form, remembering where they were going."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{SIGNIN_PATH}?next={quote(target, safe='')}", status_code=303)


def safe_next(target: str | None) -> str:
    """Only a local path may follow sign-in (no open redirect to `//evil.example` or `https://...`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def with_cookie(response: RedirectResponse, token: str, *, secure: bool) -> RedirectResponse:
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")
    return response


def without_cookie(response: RedirectResponse) -> RedirectResponse:
    response.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="strict")
    return response
