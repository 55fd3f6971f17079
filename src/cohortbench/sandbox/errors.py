"""The fixed failure codes of a run and how an exception inside the sandbox maps to one."""

from __future__ import annotations

from cohortbench.errors import CohortbenchError
from cohortbench.sandbox.runs import RUN_ERROR_CODES


class BadPredictionsError(CohortbenchError):
    """predict_proba returned something that is not an (n, k) array of probabilities."""

    code = "bad_predictions"


class BudgetExceededError(CohortbenchError):
    """The run needs (or used) more compute than the contributor has left."""

    code = "budget_exceeded"


class OutputTooLargeError(CohortbenchError):
    """The run wrote more than the output caps allow (a file, the logs)."""

    code = "output_too_large"


class InvalidWeightsError(CohortbenchError):
    """The saved weights hold something other than plain files and folders, or too much of it."""

    code = "invalid_weights"


def code_for_exception(exc: BaseException) -> str:
    """One of RUN_ERROR_CODES. A CohortbenchError's own code counts only if it is a known one."""
    if isinstance(exc, MemoryError):
        return "out_of_memory"
    if isinstance(exc, ImportError):
        return "import_error"
    code = getattr(exc, "code", None)
    if isinstance(exc, CohortbenchError) and code in RUN_ERROR_CODES:
        return str(code)
    return "crashed"
