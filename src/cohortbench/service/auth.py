"""Who a request is: the one authentication step of the REST API and the web pages.

A request carries its API token as `Authorization: Bearer ...` (the SDK, the CLI) or in the web
pages' httponly sign-in cookie; both end in `users.authenticate`. HTTP framing stays out: callers
pass the header and the cookie as strings.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cohortbench.service.users import authenticate
from cohortbench.store.models import User

TOKEN_COOKIE = "cohortbench_token"  # noqa: S105 - a cookie name, not a secret


def request_token(authorization: str | None, cookie: str | None) -> str | None:
    """The token of a request: a bearer `Authorization` header first, else the sign-in cookie."""
    header = authorization or ""
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return cookie


def authenticate_request(session: Session, *, authorization: str | None, cookie: str | None) -> User:
    """The user of a request's token, or PermissionDeniedError (the API answers 401, a page redirects)."""
    return authenticate(session, request_token(authorization, cookie))
