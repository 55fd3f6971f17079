"""Dependency aliases: the platform, a database session, and the signed-in user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from cohortbench.service.platform import Platform
from cohortbench.service.users import authenticate
from cohortbench.store.models import User

TOKEN_COOKIE = "cohortbench_token"  # noqa: S105 - a cookie name, not a secret
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


def bearer_token(request: Request) -> str | None:
    """Token from `Authorization: Bearer ...`, or the web pages' sign-in cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(TOKEN_COOKIE)


def current_user(request: Request, session: SessionDep) -> User:
    return authenticate(session, bearer_token(request))


CurrentUser = Annotated[User, Depends(current_user)]
