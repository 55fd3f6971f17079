"""The leaderboard's write model: what the worker keeps on a finished submission (`Submission.board`)
so that a leaderboard reads one small document per row, and the headline kept with each result.

Written on the write side (service.evaluation, service.settlement); the read side (service.results)
decodes it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import from_json
from sqlalchemy import Connection, Text, cast, select
from sqlalchemy.orm import Session

from cohortbench.scoring import Result, registry
from cohortbench.store.models import Result as ResultRow
from cohortbench.store.models import Run

HEADLINE_METRICS = registry.HEADLINE_METRICS


BOARD_KEYS: tuple[str, ...] = (*HEADLINE_METRICS, "ece", "support")  # what a row may show of a headline


def headline_of(result: Result) -> dict[str, Any]:
    """The small set of numbers a leaderboard row needs, with their 95% intervals."""
    out: dict[str, Any] = {}
    for name in HEADLINE_METRICS:
        est = getattr(result.headline, name)
        out[name] = {"value": est.value, "low": est.low, "high": est.high}
    out["ece"] = result.calibration.ece_equal_width
    out["per_class_recall"] = {pc.name: pc.recall.value for pc in result.per_class}
    out["support"] = {pc.name: pc.support for pc in result.per_class}
    return out


def board_of(session: Session | Connection, submission_id: int) -> dict[str, Any]:
    """What the leaderboard shows of a submission's runs, kept on it as `Submission.board`.

    Each phase's headline cut to BOARD_KEYS, CPU and GPU seconds summed in run order, the last
    parameter count given. The worker writes it when the submission finishes, so that the board
    reads one small document per row, not every run's resources and result.
    """
    query = (
        select(Run.phase, _text(Run.resources), _text(ResultRow.headline))
        .outerjoin(ResultRow, ResultRow.run_id == Run.id)
        .where(Run.submission_id == submission_id)
        .order_by(Run.id)
    )
    headlines: dict[str, dict[str, Any]] = {}
    cpu_seconds = gpu_seconds = 0.0
    n_parameters = None
    for phase, resources_text, headline_text in session.execute(query).all():
        resources, headline = _decode(resources_text) or {}, _decode(headline_text)
        if headline is not None:
            headlines[phase] = {key: headline[key] for key in BOARD_KEYS if key in headline}
        cpu_seconds += float(resources.get("cpu_seconds") or 0.0)
        gpu_seconds += float(resources.get("gpu_seconds") or 0.0)
        n_parameters = resources.get("n_parameters") or n_parameters
    return {
        "headlines": headlines,
        "cpu_seconds": cpu_seconds,
        "gpu_seconds": gpu_seconds,
        "n_parameters": n_parameters,
    }


def _text(column: Any) -> Any:
    """A JSON column as its stored text (PostgreSQL's json keeps the text as written), for `_decode`."""
    return cast(column, Text)


def _decode(text: str | None) -> Any:
    """A JSON column read as text: pydantic-core's parser, several times faster than json.loads on
    these float-heavy documents, with the same values; json.loads for what it refuses."""
    if text is None:
        return None
    try:
        return from_json(text)
    except ValueError:  # e.g. a lone surrogate escape, which json.loads accepts
        return json.loads(text)
