"""Does a model hold up over time? Each contributor's model scored per cohort version (owner only).

A model's first point is its own submission; each later point is the owner's re-run of the same
bundle on another version (service.rerun). The score is the final phase's (fine-tuned, else out of
the box) primary metric with its 95% interval. A drop against the first point is judged by a paired
bootstrap of the difference on the shared holdout (scoring.compare) when both versions hold out the
same patients, and otherwise, conservatively, by disjoint intervals; it is flagged when the whole
interval of the difference (or the later interval) lies below the first score.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.scoring import compare
from cohortbench.service.access import get_workspace, require
from cohortbench.service.platform import Platform
from cohortbench.service.results import interval_of
from cohortbench.service.workspaces import load_cohort
from cohortbench.store.models import CohortVersion, Run, Submission, User, Workspace


@dataclass(frozen=True)
class Point:
    version: int
    submission_id: int
    phase: str
    value: float | None
    low: float | None
    high: float | None
    critical_recall: float | None
    paired: bool | None = None  # how the drop was judged against the first point (None: the first point)
    difference: float | None = None
    difference_low: float | None = None
    difference_high: float | None = None
    dropped: bool = False


@dataclass(frozen=True)
class HoldUp:
    submission_id: int
    contributor: str
    model: str
    points: list[Point]

    @property
    def dropped(self) -> bool:
        return any(p.dropped for p in self.points)


def holds_up(platform: Platform, session: Session, *, actor: User, name: str) -> list[HoldUp]:
    """Every succeeded contributor submission with its score on each version it was run on."""
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="reading how models hold up over time")
    metric = workspace.primary_metric
    originals = session.scalars(
        select(Submission)
        .where(
            Submission.workspace_id == workspace.id,
            Submission.rerun_of.is_(None),
            Submission.status == "succeeded",
        )
        .order_by(Submission.id)
    ).all()
    out = []
    for original in originals:
        reruns = session.scalars(
            select(Submission).where(Submission.rerun_of == original.id, Submission.status == "succeeded")
        ).all()
        chain = sorted([original, *reruns], key=lambda s: _version(session, s).version)
        first = _point(session, original, metric)
        points = [
            first
            if s.id == original.id
            else _against(platform, session, workspace, original, s, first, metric)
            for s in chain
        ]
        out.append(HoldUp(original.id, _who(session, original), original.name, points))
    return out


def _version(session: Session, submission: Submission) -> CohortVersion:
    version = session.get(CohortVersion, submission.cohort_version_id)
    assert version is not None
    return version


def _who(session: Session, submission: Submission) -> str:
    user = session.get(User, submission.user_id)
    return submission.team or (user.display_name if user else "?")


def _final(session: Session, submission: Submission) -> tuple[str, dict[str, Any] | None, str | None]:
    """(phase, board headline, predictions artifact) of the submission's final scored phase."""
    heads = (submission.board or {}).get("headlines", {})
    runs = {r.phase: r for r in session.scalars(select(Run).where(Run.submission_id == submission.id))}
    for phase in ("finetune", "baseline"):
        if phase in heads and phase in runs:
            return phase, heads[phase], runs[phase].predictions_artifact
    return "baseline", None, None


def _point(session: Session, submission: Submission, metric: str) -> Point:
    phase, head, _ = _final(session, submission)
    score = interval_of(head, metric, None)
    crit = interval_of(head, "critical_recall", None)
    return Point(
        version=_version(session, submission).version,
        submission_id=submission.id,
        phase=phase,
        value=score.value if score else None,
        low=score.low if score else None,
        high=score.high if score else None,
        critical_recall=crit.value if crit else None,
    )


def _against(
    platform: Platform,
    session: Session,
    workspace: Workspace,
    original: Submission,
    later: Submission,
    first: Point,
    metric: str,
) -> Point:
    point = _point(session, later, metric)
    a_version, b_version = _version(session, original), _version(session, later)
    if a_version.holdout_ids_artifact == b_version.holdout_ids_artifact:
        diff = _paired(platform, session, workspace, original, later, a_version, b_version, metric)
        if diff is not None:
            value, low, high = diff
            dropped = high is not None and high < 0
            return _with(point, paired=True, difference=value, low=low, high=high, dropped=dropped)
    if point.value is None or first.value is None:
        return point
    dropped = point.high is not None and first.low is not None and point.high < first.low
    return _with(
        point, paired=False, difference=point.value - first.value, low=None, high=None, dropped=dropped
    )


def _with(
    point: Point,
    *,
    paired: bool,
    difference: float | None,
    low: float | None,
    high: float | None,
    dropped: bool,
) -> Point:
    from dataclasses import replace

    return replace(
        point, paired=paired, difference=difference, difference_low=low, difference_high=high, dropped=dropped
    )


def _paired(
    platform: Platform,
    session: Session,
    workspace: Workspace,
    a: Submission,
    b: Submission,
    a_version: CohortVersion,
    b_version: CohortVersion,
    metric: str,
) -> tuple[float | None, float | None, float | None] | None:
    """Paired bootstrap of later - first on the shared holdout (trusted side: holdout labels)."""
    _, _, a_art = _final(session, a)
    _, _, b_art = _final(session, b)
    if a_art is None or b_art is None:
        return None
    proba_a, ids_a, y = _predictions(platform, workspace, a_version, a_art)
    proba_b, ids_b, _y = _predictions(platform, workspace, b_version, b_art)
    order = {pid: i for i, pid in enumerate(ids_b)}
    proba_b = proba_b[[order[pid] for pid in ids_a]]
    result = compare(
        y,
        proba_a,
        proba_b,
        classes=tuple(workspace.classes),
        critical_class=workspace.critical_class or workspace.classes[-1],
        n_resamples=platform.settings.bootstrap_resamples,
    )
    try:
        d = result.get(metric).difference
    except KeyError:
        return None
    return d.value, d.low, d.high


def _predictions(
    platform: Platform, workspace: Workspace, version: CohortVersion, artifact: str
) -> tuple[np.ndarray, list[str], np.ndarray]:
    proba = np.load(io.BytesIO(platform.artifacts.path(artifact).read_bytes()), allow_pickle=False)
    _train, holdout = load_cohort(platform, version, workspace)
    lookup = {c: i for i, c in enumerate(workspace.classes)}
    y = np.array([lookup[str(v)] for v in holdout[workspace.label_column]], dtype=np.int64)
    return proba, holdout[workspace.id_column].astype(str).tolist(), y
