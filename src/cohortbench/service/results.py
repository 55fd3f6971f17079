"""What a member may read about submissions: public run views and the leaderboard.

Contributor-controlled numbers (losses, wall time, memory) go out only coarsened (invariant 4);
scores shown to non-owners go through the release rules of cohortbench.privacy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic_core import from_json
from sqlalchemy import Connection, Text, cast, select
from sqlalchemy.orm import Session

from cohortbench.privacy import coarsen_losses, coarsen_resources, score_rounder
from cohortbench.sandbox import Limits
from cohortbench.scoring import Result
from cohortbench.service.access import get_workspace
from cohortbench.service.submissions import get_submission, runs_of
from cohortbench.service.workspaces import latest_version, rules_of
from cohortbench.store.models import Result as ResultRow
from cohortbench.store.models import Run, Submission, User, Workspace
from cohortbench.workspaces import Resources, estimate_energy, leaderboard_released

CRITICAL_RECALL_FLOOR = 0.5
HEADLINE_METRICS: tuple[str, ...] = (
    "macro_f1",
    "critical_recall",
    "accuracy",
    "balanced_accuracy",
    "weighted_f1",
)
BOARD_KEYS: tuple[str, ...] = (*HEADLINE_METRICS, "ece")  # what a row may show of a headline


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


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    submission_id: int
    contributor: str
    model: str
    framework: str
    status: str
    claimed: float | None
    baseline: Interval | None
    finetuned: Interval | None
    critical_recall: Interval | None
    transfer_ratio: float | None
    ece: float | None
    n_parameters: int | None
    compute_pflop: float
    energy_kwh: float
    co2e_g: float
    warning: str | None
    mine: bool


@dataclass(frozen=True)
class Leaderboard:
    workspace: str
    metric: str
    critical_class: str
    released: bool
    n_holdout: int
    rows: list[LeaderboardRow]


def limits_for(resources: Resources) -> Limits:
    """Sandbox limits of one job from the workspace's resources."""
    return Limits(memory_bytes=int(resources.memory_gb * 1024**3))


def headline_of(result: Result) -> dict[str, Any]:
    """The small set of numbers a leaderboard row needs, with their 95% intervals."""
    out: dict[str, Any] = {}
    for name in HEADLINE_METRICS:
        est = getattr(result.headline, name)
        out[name] = {"value": est.value, "low": est.low, "high": est.high}
    out["ece"] = result.calibration.ece_equal_width
    out["per_class_recall"] = {pc.name: pc.recall.value for pc in result.per_class}
    return out


def _interval(
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


def run_view(run: Run, result: ResultRow | None, *, owner: bool, n_holdout: int) -> RunView:
    """Public view of a run: structured error, coarsened losses and resources, scorer metrics."""
    return RunView(
        phase=run.phase,
        status=run.status,
        error=run.public_error,
        losses=_losses(run) if owner else coarsen_losses(_losses(run)),
        resources=dict(run.resources or {}) if owner else _coarse_resources(run.resources or {}),
        headline=result.headline if result else None,
        result=result.result if result else None,
    )


def _losses(run: Run) -> list[float]:
    return [float(v) for v in (run.losses or {}).get("train", [])]


def _coarse_resources(resources: dict[str, Any]) -> dict[str, Any]:
    """Contributor view of a run's resources: buckets, not exact numbers (a covert channel otherwise)."""
    if not resources:
        return {}
    buckets = coarsen_resources(
        wall_time_s=float(resources.get("wall_seconds") or 0.0),
        peak_memory_bytes=int(resources.get("peak_memory_bytes") or 0),
    ).to_dict()
    buckets["compute_pflop"] = float(f"{float(resources.get('flop') or 0.0) / 1e15:.1g}")
    return buckets


def submission_view(session: Session, *, actor: User, submission_id: int) -> SubmissionView:
    submission, workspace, role = get_submission(session, actor=actor, submission_id=submission_id)
    n_holdout = latest_version(session, workspace).n_holdout
    owner = role == "owner"
    runs = [
        run_view(
            r,
            session.scalar(select(ResultRow).where(ResultRow.run_id == r.id)),
            owner=owner,
            n_holdout=n_holdout,
        )
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
    )


def leaderboard(
    session: Session, *, actor: User, workspace_name: str, today: date | None = None
) -> Leaderboard:
    """Ranked rows; before release a contributor sees only their own (and their team's) rows."""
    workspace, role = get_workspace(session, actor, workspace_name)
    rules = rules_of(workspace)
    released = leaderboard_released(
        rules, today=today or date.today(), published=workspace.published_at is not None
    )
    n_holdout = latest_version(session, workspace).n_holdout
    owner = role == "owner"
    rows = _rows(session, workspace, actor, owner=owner, released=released, n_holdout=n_holdout)
    metric = workspace.primary_metric
    return Leaderboard(workspace.name, metric, workspace.critical_class or "", released, n_holdout, rows)


def _score_of(best: Interval | None) -> float | None:
    return best.value if best else None


@dataclass
class _Entry:
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


def _entries(session: Session, workspace: Workspace, actor: User, *, visible_all: bool) -> list[_Entry]:
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
            _text(Submission.board),
        )
        .join(User, User.id == Submission.user_id)
        .where(Submission.workspace_id == workspace.id, Submission.status == "succeeded")
        .order_by(Submission.user_id, Submission.id)
    )  # fmt: skip
    if not visible_all:
        query = query.where(Submission.user_id == actor.id)
    entries = []
    for sid, uid, team, display, name, fw, status, claimed, pflop, stored in session.execute(query).all():
        board = _decode(stored) or board_of(session, sid)
        entries.append(
            _Entry(sid, uid, team or display, name, fw, status, _decode(claimed) or {}, pflop, board)
        )
    return entries


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


def _rows(
    session: Session, workspace: Workspace, actor: User, *, owner: bool, released: bool, n_holdout: int
) -> list[LeaderboardRow]:
    """The rows, best score (finetuned, else baseline) first; ties keep the order of `_entries`."""
    metric = workspace.primary_metric
    rounding = None if owner or not rules_of(workspace).round_scores else n_holdout
    rounded = score_rounder(rounding) if rounding else None
    entries = _entries(session, workspace, actor, visible_all=owner or released)
    scored = [
        (
            _interval(e.board["headlines"].get("baseline"), metric, rounded),
            _interval(e.board["headlines"].get("finetune"), metric, rounded),
            e,
        )
        for e in entries
    ]
    scored.sort(key=lambda s: -(_score_of(s[1] or s[0]) or -1.0))
    critical_class = workspace.critical_class or ""
    return [
        _row(rank, e, b, f, actor, metric, rounded, critical_class)
        for rank, (b, f, e) in enumerate(scored, start=1)
    ]


def _row(
    rank: int,
    entry: _Entry,
    b: Interval | None,
    f: Interval | None,
    actor: User,
    metric: str,
    rounded: Callable[[float], float] | None,
    critical_class: str,
) -> LeaderboardRow:
    """One leaderboard row from its baseline and finetuned intervals: transfer ratio, energy, warning."""
    base, fine = entry.board["headlines"].get("baseline"), entry.board["headlines"].get("finetune")
    claimed = entry.claimed.get(metric)
    crit = _interval(fine or base, "critical_recall", rounded)
    energy = estimate_energy(cpu_seconds=entry.board["cpu_seconds"], gpu_seconds=entry.board["gpu_seconds"])
    best = f or b
    return LeaderboardRow(
        rank=rank,
        submission_id=entry.submission_id,
        contributor=entry.contributor,
        model=entry.model,
        framework=entry.framework,
        status=entry.status,
        claimed=claimed,
        baseline=b,
        finetuned=f,
        critical_recall=crit,
        transfer_ratio=(best.value / claimed) if (best and best.value is not None and claimed) else None,
        ece=(fine or base or {}).get("ece"),
        n_parameters=entry.board["n_parameters"],
        compute_pflop=float(entry.compute_pflop or 0.0),
        energy_kwh=energy.kwh,
        co2e_g=energy.g_co2e,
        warning=_warning(best, crit, critical_class),
        mine=entry.user_id == actor.id,
    )


def _warning(best: Interval | None, critical: Interval | None, critical_class: str) -> str | None:
    """Flag a headline score that hides a low recall of the critical class (the brief's Contributor C)."""
    if best is None or critical is None or critical.value is None:
        return None
    if critical.value < CRITICAL_RECALL_FLOOR:
        missed = 1.0 - critical.value
        return f"misses {missed:.0%} of class {critical_class} cases despite {best.value:.2f} on the headline metric"
    return None
