"""Sign-in for the pages: an API token pasted once becomes an httponly, same-site-strict cookie.

The cookie holds the token itself (as the REST API's bearer does), never readable by scripts and
never sent on cross-site requests, which is what stops a third-party page from acting for the user.
The sign-in form itself carries a CSRF token (double submit: the same random value in a cookie
and a hidden field), so a third-party page cannot sign a visitor in under the attacker's token;
sign-out is a POST only, so a link or an image cannot sign anyone out.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from cohortbench.errors import PermissionDeniedError
from cohortbench.http_deps import request_user
from cohortbench.service.auth import TOKEN_COOKIE
from cohortbench.store.models import User

SIGNIN_PATH = "/signin"
CSRF_COOKIE = "cohortbench_csrf"
CSRF_FIELD = "csrf"
CSRF_MAX_AGE_S = 3600


def signed_in(request: Request, session: Session) -> User | None:
    """The user of the request's cookie (or bearer header), or None when absent, wrong or revoked."""
    try:
        return request_user(request, session)
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


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def with_csrf_cookie(response: HTMLResponse, token: str, *, secure: bool) -> HTMLResponse:
    """The sign-in form's token, sent back only to the sign-in path and never to scripts."""
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=CSRF_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=secure,
        path=SIGNIN_PATH,
    )
    return response


def csrf_ok(request: Request, submitted: str) -> bool:
    """Whether the form's hidden token matches the cookie set with the form (compared in constant time)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), submitted.encode())
