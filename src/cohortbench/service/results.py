"""What a member may read about submissions: public run views and the leaderboard.

Contributor-controlled numbers (losses, wall time, memory) go out only coarsened (invariant 4);
scores shown to non-owners go through the release rules of cohortbench.privacy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.privacy import coarsen_losses, coarsen_resources, release_score
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


def _interval(data: dict[str, Any] | None, metric: str, n_holdout: int | None) -> Interval | None:
    if not data or metric not in data or data[metric]["value"] is None:
        return None
    item = data[metric]
    rnd = (
        (lambda v: release_score(v, n_holdout=n_holdout) if v is not None else None)
        if n_holdout
        else (lambda v: v)
    )
    return Interval(rnd(item["value"]), rnd(item.get("low")), rnd(item.get("high")))


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
    rows.sort(key=lambda r: -(_score_of(r) or -1.0))
    ranked = [LeaderboardRow(**{**r.__dict__, "rank": i + 1}) for i, r in enumerate(rows)]
    return Leaderboard(workspace.name, metric, workspace.critical_class or "", released, n_holdout, ranked)


def _score_of(row: LeaderboardRow) -> float | None:
    best = row.finetuned or row.baseline
    return best.value if best else None


@dataclass
class _Entry:
    """One succeeded submission with everything its leaderboard row needs, gathered from one query."""

    submission_id: int
    user_id: int
    contributor: str
    model: str
    framework: str
    status: str
    claimed: dict[str, Any]
    compute_pflop: float
    headlines: dict[str, dict[str, Any]] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    gpu_seconds: float = 0.0
    n_parameters: Any = None


def _entries(session: Session, workspace: Workspace, actor: User, *, visible_all: bool) -> list[_Entry]:
    """Submissions joined to their runs and results in ONE query (not two per submission).

    Submissions come in the order the former per-row query returned them on SQLite (by user, then
    id), which decides the rank of tied scores; runs come in id order, so the totals fold in run
    order. A contributor who may not see the others yet gets only their own rows from the database.
    """
    query = (
        select(
            Submission.id, Submission.user_id, Submission.team, User.display_name, Submission.name,
            Submission.framework, Submission.status, Submission.claimed, Submission.compute_pflop,
            Run.phase, Run.resources, ResultRow.headline,
        )
        .join(User, User.id == Submission.user_id)
        .outerjoin(Run, Run.submission_id == Submission.id)
        .outerjoin(ResultRow, ResultRow.run_id == Run.id)
        .where(Submission.workspace_id == workspace.id, Submission.status == "succeeded")
        .order_by(Submission.user_id, Submission.id, Run.id)
    )  # fmt: skip
    if not visible_all:
        query = query.where(Submission.user_id == actor.id)
    entries: dict[int, _Entry] = {}
    for sid, uid, team, display, name, fw, status, claimed, pflop, phase, res, head in session.execute(query):
        entry = entries.get(sid)
        if entry is None:
            entry = entries[sid] = _Entry(sid, uid, team or display, name, fw, status, claimed or {}, pflop)
        if phase is not None:
            _add_run(entry, phase, res or {}, head)
    return list(entries.values())


def _add_run(entry: _Entry, phase: str, resources: dict[str, Any], headline: dict[str, Any] | None) -> None:
    """Fold one run into its submission: headline by phase, summed CPU/GPU seconds, last parameter count."""
    if headline is not None:
        entry.headlines[phase] = headline
    entry.cpu_seconds += float(resources.get("cpu_seconds") or 0.0)
    entry.gpu_seconds += float(resources.get("gpu_seconds") or 0.0)
    entry.n_parameters = resources.get("n_parameters") or entry.n_parameters


def _rows(
    session: Session, workspace: Workspace, actor: User, *, owner: bool, released: bool, n_holdout: int
) -> list[LeaderboardRow]:
    metric = workspace.primary_metric
    rounding = None if owner or not rules_of(workspace).round_scores else n_holdout
    entries = _entries(session, workspace, actor, visible_all=owner or released)
    return [_row(e, actor, metric, rounding, workspace.critical_class or "") for e in entries]


def _row(
    entry: _Entry, actor: User, metric: str, rounding: int | None, critical_class: str
) -> LeaderboardRow:
    """One leaderboard row (rank 0 until sorted): rounded intervals, transfer ratio, energy, warning."""
    base, fine = entry.headlines.get("baseline"), entry.headlines.get("finetune")
    claimed = entry.claimed.get(metric)
    b, f = _interval(base, metric, rounding), _interval(fine, metric, rounding)
    crit = _interval(fine or base, "critical_recall", rounding)
    energy = estimate_energy(cpu_seconds=entry.cpu_seconds, gpu_seconds=entry.gpu_seconds)
    best = f or b
    return LeaderboardRow(
        rank=0,
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
        n_parameters=entry.n_parameters,
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
