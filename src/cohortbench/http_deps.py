"""FastAPI dependencies shared by the REST API (api/) and the web pages (web/): the platform, a
database session per request, a bounded submission id, and the signed-in user.

Below both, so that neither imports the other: api/app.py mounts the pages explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from cohortbench.service.auth import TOKEN_COOKIE, authenticate_request
from cohortbench.service.platform import Platform
from cohortbench.store.models import User

MAX_ID = 2**31 - 1  # ids are INTEGER columns: 32-bit on PostgreSQL, so a larger one cannot exist

# A bounded id: 2**63 (or 2**31 on PostgreSQL) answers 422, not an OverflowError from the driver.
SubmissionId = Annotated[int, Path(ge=1, le=MAX_ID, description="A submission id")]


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_session(platform: PlatformDep) -> Iterator[Session]:
    with platform.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def request_user(request: Request, session: Session) -> User:
    """The user of the request's bearer header or sign-in cookie (PermissionDeniedError if none)."""
    return authenticate_request(
        session, authorization=request.headers.get("authorization"), cookie=request.cookies.get(TOKEN_COOKIE)
    )
