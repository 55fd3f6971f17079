"""Errors as RFC 9457 problem details (application/problem+json), unexpected ones included."""

from __future__ import annotations

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cohortbench.errors import (
    CohortbenchError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

PROBLEM_JSON = "application/problem+json"
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_DISK_FULL_TEXT = ("database or disk is full", "no space left on device", "could not extend file")

log = logging.getLogger(__name__)


def problem(status: int, title: str, detail: str, code: str, instance: str | None = None) -> JSONResponse:
    body = {
        "type": f"https://cohortbench.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body["code"] = code
    if instance:
        body["instance"] = instance
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers={"Cache-Control": "no-store"}
    )


def _status_of(exc: CohortbenchError) -> tuple[int, str]:
    if isinstance(exc, PermissionDeniedError):
        return (401, "Unauthorized") if exc.code == "unauthenticated" else (403, "Forbidden")
    if isinstance(exc, NotFoundError):
        return 404, "Not Found"
    if isinstance(exc, ConflictError):
        return 409, "Conflict"
    if isinstance(exc, ValidationError):
        if exc.code == "too_large":
            return 413, "Content Too Large"
        if exc.code == "unsupported_media_type":
            return 415, "Unsupported Media Type"
        return 422, "Unprocessable Content"
    return 400, "Bad Request"


def disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it: an OSError, SQLite's SQLITE_FULL, PostgreSQL's 53100) is a full disk."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _DISK_FULL_ERRNOS:
            return True
        if getattr(current, "sqlstate", None) == "53100" or any(
            text in str(current).lower() for text in _DISK_FULL_TEXT
        ):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


def unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A 507 for a full disk (the unit of work was rolled back: nothing lost), else a bare 500.

    Neither says more than that: exception text can hold paths, SQL or values. Starlette re-raises
    the exception after this answer is sent, so the server's log gets the traceback.
    """
    path = str(request.url.path)
    if disk_full(exc):
        log.error("disk full while serving %s %s: %s", request.method, path, type(exc).__name__)
        return problem(
            507,
            "Insufficient Storage",
            "the server ran out of storage; nothing was changed, try again later",
            "insufficient_storage",
            path,
        )
    log.error("unexpected %s serving %s %s", type(exc).__name__, request.method, path)
    return problem(500, "Internal Server Error", "an unexpected error; it was logged", "internal_error", path)


def install(app: FastAPI) -> None:
    """Register handlers so every error leaves as problem+json."""

    @app.exception_handler(CohortbenchError)
    async def _domain(request: Request, exc: CohortbenchError) -> JSONResponse:
        status, title = _status_of(exc)
        return problem(status, title, exc.message, exc.code, str(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def _request(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return problem(422, "Unprocessable Content", fields, "invalid_request", str(request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code, str(exc.detail), str(exc.detail), f"http_{exc.status_code}", request.url.path
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected(request, exc)
