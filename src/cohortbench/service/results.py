"""The owner-side read model of submissions and leaderboards: exact numbers, never sent as they are.

Everything here is what the owner may see. What a contributor sees is built from these views by
the one release step, `service.release`, into the typed models of `service.public`. What the
worker stores for the leaderboard (`Submission.board`) is written by service/board_record.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.service.access import get_workspace
from cohortbench.service.board_record import _decode, _text, board_of
from cohortbench.service.submissions import get_submission, runs_of
from cohortbench.service.workspaces import latest_version
from cohortbench.service.workspaces.rules import rules_of
from cohortbench.store.models import Result as ResultRow
from cohortbench.store.models import Run, Submission, User, Workspace
from cohortbench.workspaces import leaderboard_released


@dataclass(frozen=True)
class Interval:
    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class RunView:
    phase: str
    status: str
    error: dict[str, Any] | None
    losses: list[float]
    resources: dict[str, Any]
    headline: dict[str, Any] | None
    result: dict[str, Any] | None


@dataclass(frozen=True)
class SubmissionView:
    id: int
    workspace: str
    contributor: str
    name: str
    framework: str
    status: str
    created_at: str
    claimed: dict[str, float]
    plan: dict[str, Any]
    bundle_sha256: str
    compute_pflop: float
    error: dict[str, Any] | None
    runs: list[RunView] = field(default_factory=list)
    #: scoring.Transfer with paired intervals, stored at finish (service.paired_transfer); owner-side
    paired_transfer: dict[str, Any] | None = None


@dataclass(frozen=True)
class Board:
    """The owner-side leaderboard: which submissions the actor may see, with their stored boards."""

    workspace: Workspace
    role: str
    released: bool
    n_holdout: int
    entries: list[Entry]
    version: int | None = None  # the cohort version the board is restricted to, if any


def interval_of(
    data: dict[str, Any] | None, metric: str, rounded: Callable[[float], float] | None
) -> Interval | None:
    """The metric's interval in a headline, each bound passed through `rounded` when given."""
    if not data or metric not in data or data[metric]["value"] is None:
        return None
    item = data[metric]
    value, low, high = item["value"], item.get("low"), item.get("high")
    if rounded is None:
        return Interval(value, low, high)
    return Interval(
        rounded(value), None if low is None else rounded(low), None if high is None else rounded(high)
    )


def run_view(run: Run, result: ResultRow | None) -> RunView:
    """Owner-side view of a run: structured error with frames, exact losses and resources, scores."""
    return RunView(
        phase=run.phase,
        status=run.status,
        error=run.public_error,
        losses=[float(v) for v in (run.losses or {}).get("train", [])],
        resources=dict(run.resources or {}),
        headline=result.headline if result else None,
        result=result.result if result else None,
    )


def submission_view(session: Session, *, actor: User, submission_id: int) -> tuple[SubmissionView, str]:
    """The exact view of a submission the actor may read, and the actor's role in its workspace."""
    submission, workspace, role = get_submission(session, actor=actor, submission_id=submission_id)
    runs = [
        run_view(r, session.scalar(select(ResultRow).where(ResultRow.run_id == r.id)))
        for r in runs_of(session, submission)
    ]
    contributor = session.get(User, submission.user_id)
    return SubmissionView(
        id=submission.id,
        workspace=workspace.name,
        contributor=contributor.display_name if contributor else "?",
        name=submission.name,
        framework=submission.framework,
        status=submission.status,
        created_at=submission.created_at.isoformat(),
        claimed=dict(submission.claimed or {}),
        plan=dict(submission.plan or {}),
        bundle_sha256=submission.bundle_sha256,
        compute_pflop=float(submission.compute_pflop or 0.0),
        error=submission.public_error,
        runs=sorted(runs, key=lambda r: r.phase != "baseline"),
        paired_transfer=(submission.board or {}).get("transfer"),
    ), role


def board(
    session: Session,
    *,
    actor: User,
    workspace_name: str,
    today: date | None = None,
    version: int | None = None,
) -> Board:
    """The succeeded submissions the actor may see: all for the owner, or once released; else their own.

    `version` restricts the board to the submissions scored on that cohort version; the owner's
    re-runs (service.rerun) are on it for the owner only, and never on the board of all versions.
    """
    from cohortbench.service.growth import get_version

    workspace, role = get_workspace(session, actor, workspace_name)
    rules = rules_of(workspace)
    released = leaderboard_released(
        rules, today=today or date.today(), published=workspace.published_at is not None
    )
    row = (
        get_version(session, workspace, version)
        if version is not None
        else latest_version(session, workspace)
    )
    entries = _entries(
        session,
        workspace,
        actor,
        visible_all=role == "owner" or released,
        version_id=row.id if version is not None else None,
        reruns=role == "owner" and version is not None,
    )
    return Board(workspace, role, released, row.n_holdout, entries, version)


@dataclass
class Entry:
    """One succeeded submission with everything its leaderboard row needs."""

    submission_id: int
    user_id: int
    contributor: str
    model: str
    framework: str
    status: str
    claimed: dict[str, Any]
    compute_pflop: float
    board: dict[str, Any]  # see board_of
    rerun_of: int | None = None


def _entries(
    session: Session,
    workspace: Workspace,
    actor: User,
    *,
    visible_all: bool,
    version_id: int | None = None,
    reruns: bool = False,
) -> list[Entry]:
    """The succeeded submissions and their boards (`board_of`) in ONE query on the submissions.

    They come in the order the former per-row query returned them on SQLite (by user, then id),
    which decides the rank of tied scores. A contributor who may not see the others yet gets only
    their own rows from the database. A submission that did not finish through the worker (one
    inserted directly, as test fixtures do) has no stored board: it is worked out here instead.
    """
    query = (
        select(
            Submission.id, Submission.user_id, Submission.team, User.display_name, Submission.name,
            Submission.framework, Submission.status, _text(Submission.claimed), Submission.compute_pflop,
            _text(Submission.board), Submission.rerun_of,
        )
        .join(User, User.id == Submission.user_id)
        .where(Submission.workspace_id == workspace.id, Submission.status == "succeeded")
        .order_by(Submission.user_id, Submission.id)
    )  # fmt: skip
    if not visible_all:
        query = query.where(Submission.user_id == actor.id)
    if version_id is not None:
        query = query.where(Submission.cohort_version_id == version_id)
    if not reruns:
        query = query.where(Submission.rerun_of.is_(None))
    entries = []
    rows = session.execute(query).all()
    for sid, uid, team, display, name, fw, status, claimed, pflop, stored, rerun_of in rows:
        board = _decode(stored) or board_of(session, sid)
        who = _original_contributor(session, rerun_of) if rerun_of is not None else team or display
        entries.append(Entry(sid, uid, who, name, fw, status, _decode(claimed) or {}, pflop, board, rerun_of))
    return entries


def _original_contributor(session: Session, submission_id: int) -> str:
    """Who a re-run's original belongs to (its team, else its contributor's display name)."""
    row = session.execute(
        select(Submission.team, User.display_name)
        .join(User, User.id == Submission.user_id)
        .where(Submission.id == submission_id)
    ).first()
    return "?" if row is None else str(row[0] or row[1])
