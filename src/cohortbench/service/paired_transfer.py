"""The fine-tune's paired verdict, computed once when a submission finishes.

Disjoint intervals of two stored Results are a conservative test of "fine-tuning made it worse":
both intervals are wide because each carries the holdout's sampling noise, which the two phases
share. Resampling the same patients for both phases (a paired bootstrap of finetune - baseline)
cancels that noise, so a real loss is caught at the holdout sizes of clinical cohorts. It needs
the two prediction matrices and the holdout labels, which live on the trusted side only, so it is
computed here, at finish, and stored in the submission's board for the pages to read.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.scoring import Result, transfer
from cohortbench.service.platform import Platform
from cohortbench.store.models import Result as ResultRow
from cohortbench.store.models import Run, Submission, Workspace


def _predictions(platform: Platform, run: Run) -> np.ndarray | None:
    if run.predictions_artifact is None:
        return None
    data = platform.artifacts.read_bytes(run.predictions_artifact)  # hash-checked
    return np.asarray(np.load(io.BytesIO(data), allow_pickle=False), dtype=np.float64)


def paired_transfer(
    platform: Platform, session: Session, submission: Submission, workspace: Workspace, y_holdout: np.ndarray
) -> dict[str, Any] | None:
    """scoring.transfer with paired bootstrap intervals, as a dict; None unless both phases were scored."""
    runs = {r.phase: r for r in session.scalars(select(Run).where(Run.submission_id == submission.id))}
    if not all(p in runs and runs[p].status == "succeeded" for p in ("baseline", "finetune")):
        return None
    base, fine = (
        session.scalar(select(ResultRow.result).where(ResultRow.run_id == runs[phase].id))
        for phase in ("baseline", "finetune")
    )
    base_p, fine_p = _predictions(platform, runs["baseline"]), _predictions(platform, runs["finetune"])
    if base is None or fine is None or base_p is None or fine_p is None:
        return None
    metric = workspace.primary_metric
    verdict = transfer(
        baseline=Result.from_dict(base),
        finetune=Result.from_dict(fine),
        claimed=(submission.claimed or {}).get(metric),
        metric=metric,
        y_true=y_holdout,
        baseline_proba=base_p,
        finetune_proba=fine_p,
    )
    return verdict.to_dict()
