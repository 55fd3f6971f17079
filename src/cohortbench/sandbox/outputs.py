"""Names and checks of the files a run writes, shared by the entry point (inside) and the launcher.

Inside, the checks fail early with a useful code. Outside, the launcher repeats them on what it
reads back, because contributor code shares the entry's process and could have rewritten any file.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from cohortbench.sandbox import readback
from cohortbench.sandbox.errors import BadPredictionsError, BudgetExceededError, OutputTooLargeError

PREDICTIONS = "predictions.npy"
PERMUTED = "permuted.npy"
LOSSES = "losses.json"
RESOURCES = "resources.json"
ERROR = "error.json"
WEIGHTS = "weights"
MAX_FRAMES = 20
MAX_MESSAGE_CHARS = 20_000
MAX_JSON_BYTES = 1024 * 1024
ROW_SUM_TOLERANCE = 1e-3


def check_probabilities(proba: np.ndarray, *, n_rows: int, n_classes: int) -> None:
    """(n_rows, n_classes), finite, non-negative, each row summing to 1 within ROW_SUM_TOLERANCE."""
    if proba.ndim != 2 or proba.shape != (n_rows, n_classes):
        raise BadPredictionsError(f"predictions have shape {proba.shape}, expected ({n_rows}, {n_classes})")
    if not np.isfinite(proba).all():
        raise BadPredictionsError("predictions contain NaN or infinite values")
    if (proba < 0).any() or (proba > 1 + ROW_SUM_TOLERANCE).any():
        raise BadPredictionsError("predictions are not probabilities (outside [0, 1])")
    if not np.allclose(proba.sum(axis=1), 1.0, atol=ROW_SUM_TOLERANCE, rtol=0):
        raise BadPredictionsError("prediction rows do not sum to 1")


def check_budget(flop: Any, budget_flop: Any) -> None:
    """Counted FLOP beyond the remaining budget stops the run (estimated FLOP are checked outside)."""
    if isinstance(flop, int | float) and isinstance(budget_flop, int | float) and flop > budget_flop:
        raise BudgetExceededError("counted compute exceeds the remaining budget")


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value))


def read_json(path: Path, *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse a regular JSON file no larger than `max_bytes` (OutputTooLargeError otherwise: a link,
    a FIFO or anything else that is not a plain file is never opened as one, see readback)."""
    try:
        data = readback.read_file(path, max_bytes=max_bytes)
    except readback.RefusedFileError as exc:
        raise OutputTooLargeError(str(exc)) from exc
    return json.loads(data)


def check_size(path: Path, max_bytes: int) -> None:
    size = path.lstat().st_size
    if size > max_bytes:
        raise OutputTooLargeError(f"{path.name} is {size} bytes, over the cap of {max_bytes}")


def read_array(path: Path, *, max_bytes: int) -> np.ndarray:
    """A plain numeric .npy (never pickle), size-capped before it is read."""
    try:
        data = readback.read_file(path, max_bytes=max_bytes)
    except readback.OverCapError as exc:
        raise OutputTooLargeError(str(exc)) from exc
    except OSError as exc:
        raise BadPredictionsError(f"{path.name} is missing or not a regular file") from exc
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BadPredictionsError(f"{path.name} is not a readable .npy array") from exc
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu":
        raise BadPredictionsError(f"{path.name} does not hold numbers")
    return array.astype(np.float64, copy=False)


def read_losses(path: Path, *, max_points: int) -> tuple[float, ...]:
    """At most `max_points` finite numbers (booleans and anything else refused)."""
    if not path.is_file():
        return ()
    values = read_json(path)
    ok = isinstance(values, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )
    if not ok or len(values) > max_points:
        raise BadPredictionsError(f"losses must be a list of at most {max_points} finite numbers")
    return tuple(float(v) for v in values)
