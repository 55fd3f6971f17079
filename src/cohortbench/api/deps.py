"""Dependency aliases of the REST API: the shared ones (http_deps) and the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cohortbench.http_deps import PlatformDep, SessionDep, SubmissionId, request_user
from cohortbench.service.auth import TOKEN_COOKIE
from cohortbench.store.models import User

__all__ = [
    "TOKEN_COOKIE",
    "CurrentUser",
    "PlatformDep",
    "SessionDep",
    "SubmissionId",
    "current_user",
]


def current_user(request: Request, session: SessionDep) -> User:
    return request_user(request, session)


CurrentUser = Annotated[User, Depends(current_user)]
