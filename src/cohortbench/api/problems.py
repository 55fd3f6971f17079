"""Errors as RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

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
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _status_of(exc: CohortbenchError) -> tuple[int, str]:
    if isinstance(exc, PermissionDeniedError):
        return (401, "Unauthorized") if exc.code == "unauthenticated" else (403, "Forbidden")
    if isinstance(exc, NotFoundError):
        return 404, "Not Found"
    if isinstance(exc, ConflictError):
        return 409, "Conflict"
    if isinstance(exc, ValidationError):
        return (413, "Content Too Large") if exc.code == "too_large" else (422, "Unprocessable Content")
    return 400, "Bad Request"


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
