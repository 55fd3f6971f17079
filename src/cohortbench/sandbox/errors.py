"""The fixed failure codes of a run and how an exception inside the sandbox maps to one."""

from __future__ import annotations

from cohortbench.errors import CohortbenchError
from cohortbench.privacy.channels import ERROR_DETAILS
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


#: What was wrong with the predictions, as a fixed word a contributor may see: (pattern in the
#: checker's message, detail). The message itself (with the actual shape, which the model chose)
#: stays with the owner; the detail's few values are counted in the channel budget.
PREDICTION_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("permuted predictions have shape", "wrong_shape"),
    ("predictions have shape", "wrong_shape"),
    ("NaN or infinite", "not_finite"),
    ("outside [0, 1]", "not_probabilities"),
    ("do not sum to 1", "rows_do_not_sum_to_1"),
    ("losses must be", "bad_losses"),
    (".npy", "unreadable"),
)
DETAILS: tuple[str, ...] = ERROR_DETAILS
assert {d for _, d in PREDICTION_PROBLEMS} == set(DETAILS)


def detail_of(code: str, message: object) -> str | None:
    """The fixed detail of a bad_predictions failure from the checker's message, else None."""
    if code != BadPredictionsError.code or not isinstance(message, str):
        return None
    return next((detail for pattern, detail in PREDICTION_PROBLEMS if pattern in message), None)
