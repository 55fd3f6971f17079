"""The exceptions cohortbench raises on bad input: each carries a stable code and a message that names the problem."""

from __future__ import annotations


class CohortbenchError(Exception):
    """Base class: an expected failure with a message fit to show the person who caused it."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class ValidationError(CohortbenchError):
    """Input that does not meet its schema (a cohort file, a manifest, predictions, a request)."""

    code = "invalid_input"


class NotFoundError(CohortbenchError):
    """Something that does not exist, or that the caller may not know exists."""

    code = "not_found"


class PermissionDeniedError(CohortbenchError):
    """The caller's role does not allow the action."""

    code = "forbidden"


class ConflictError(CohortbenchError):
    """The action clashes with the current state (quota used up, workspace closed, name taken)."""

    code = "conflict"
