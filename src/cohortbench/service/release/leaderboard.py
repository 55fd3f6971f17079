"""The leaderboard payload: rows from stored boards, released scores, ranks that tie on equal
released scores (no hidden tie order)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy.orm import Session

from cohortbench.privacy.channels import ReleasePolicy, coarsen_compute
from cohortbench.scoring.registry import get_metric
from cohortbench.scoring.transfer import transfer_ratio
from cohortbench.service import ladder, results
from cohortbench.service.public import (
    IntervalOut,
    LeaderboardOut,
    LeaderboardRowOut,
)
from cohortbench.service.release.policy import (
    _energy_of_flop,
    _ladder_verdict,
    _recall_rounder,
    _support,
    policy_of,
    rounder,
)
from cohortbench.service.workspaces.rules import rules_of
from cohortbench.store.models import User, Workspace
from cohortbench.workspaces import estimate_energy
from cohortbench.workspaces.energy import DEFAULT_GRID_G_PER_KWH

CRITICAL_RECALL_FLOOR = 0.5


def leaderboard(
    session: Session,
    *,
    actor: User,
    workspace_name: str,
    today: date | None = None,
    grid_g_per_kwh: float = DEFAULT_GRID_G_PER_KWH,
    version: int | None = None,
) -> LeaderboardOut:
    """Ranked rows from released scores (equal released scores share a rank, no hidden tie order).

    `version`: only the submissions scored on that cohort version (and, for the owner, its re-runs).
    """
    return ranked_board(
        session, actor=actor, workspace_name=workspace_name, today=today, grid_g_per_kwh=grid_g_per_kwh,
        version=version,
    ).board  # fmt: skip


@dataclass(frozen=True)
class RankedBoard:
    """A leaderboard and, per row, the id of the user whose submission it is (never sent: the
    board cache uses it to set `mine` for another viewer of the same released rows)."""

    board: LeaderboardOut
    owners: tuple[int, ...]


def ranked_board(
    session: Session,
    *,
    actor: User,
    workspace_name: str,
    today: date | None = None,
    grid_g_per_kwh: float = DEFAULT_GRID_G_PER_KWH,
    version: int | None = None,
) -> RankedBoard:
    """`leaderboard`, with the owner of each row."""
    board = results.board(session, actor=actor, workspace_name=workspace_name, today=today, version=version)
    workspace, owner = board.workspace, board.role == "owner"
    policy = policy_of(session, workspace)
    budget = rules_of(workspace).budget_pflop
    gpu = rules_of(workspace).resources.gpu > 0
    accepted = ladder.accepted(session, workspace)
    rows = [
        _row(
            e, workspace, actor, None if owner else policy, budget=budget, gpu=gpu, grid=grid_g_per_kwh,
            verdict=_ladder_verdict(e.submission_id, e.status, accepted),
        )
        for e in board.entries
    ]  # fmt: skip
    metric = get_metric(workspace.primary_metric)

    def best_first(row: LeaderboardRowOut) -> tuple[int, float]:
        best = row.finetuned or row.baseline
        return metric.sort_key(best.value if best else None)

    order = sorted(range(len(rows)), key=lambda i: best_first(rows[i]))  # stable, like list.sort
    ranked: list[LeaderboardRowOut] = []
    for n, i in enumerate(order):
        tied = n > 0 and best_first(rows[order[n - 1]]) == best_first(rows[i])
        ranked.append(rows[i].model_copy(update={"rank": ranked[-1].rank if tied else n + 1}))
    out = LeaderboardOut(
        workspace=workspace.name,
        metric=workspace.primary_metric,
        critical_class=workspace.critical_class or "",
        released=board.released,
        n_holdout=board.n_holdout,
        score_step=None if owner else policy.score_step,
        version=board.version,
        rows=ranked,
    )
    return RankedBoard(out, tuple(board.entries[i].user_id for i in order))


def _row(
    entry: results.Entry,
    workspace: Workspace,
    actor: User,
    policy: ReleasePolicy | None,
    *,
    budget: float,
    gpu: bool,
    grid: float,
    verdict: Literal["accepted", "held"] | None = None,
) -> LeaderboardRowOut:
    """One row: the best score (fine-tuned, else out-of-the-box) and what derives from it.

    `policy` None: the owner's exact row. Otherwise the same grids as the submission's own page.
    """
    metric = workspace.primary_metric
    heads = entry.board["headlines"]
    base, fine = heads.get("baseline"), heads.get("finetune")
    if policy is not None and verdict == "held":
        base = fine = None  # the Ladder shows a held submission's scores to the owner only
    rounded = None if policy is None else rounder(policy)
    b, f = results.interval_of(base, metric, rounded), results.interval_of(fine, metric, rounded)
    if policy is None:
        crit = results.interval_of(fine or base, "critical_recall", None)
    else:
        on_grid = _recall_rounder(_support(fine or base, workspace.critical_class or ""), policy)
        crit = results.interval_of(fine or base, "critical_recall", on_grid) if on_grid else None
    ece = (fine or base or {}).get("ece")
    if policy is None or rounded is None:
        compute = float(entry.compute_pflop or 0.0)
        energy = estimate_energy(
            cpu_seconds=entry.board["cpu_seconds"],
            gpu_seconds=entry.board["gpu_seconds"],
            grid_g_per_kwh=grid,
        )
        kwh, co2 = energy.kwh, energy.g_co2e
    else:
        compute = coarsen_compute(float(entry.compute_pflop or 0.0), budget)
        kwh, co2 = _energy_of_flop(compute * 1e15, gpu=gpu, grid=grid)
        ece = None if ece is None else rounded(ece)
    best = f or b
    claimed = entry.claimed.get(metric)
    return LeaderboardRowOut(
        rank=0,
        submission_id=entry.submission_id,
        contributor=entry.contributor,
        model=entry.model,
        framework=entry.framework,
        status=entry.status,
        claimed=claimed,
        baseline=_out(b),
        finetuned=_out(f),
        critical_recall=_out(crit),
        transfer_ratio=transfer_ratio(best.value if best else None, claimed),
        ece=ece,
        compute_pflop=compute,
        energy_kwh=kwh,
        co2e_g=co2,
        warning=_warning(best, crit, workspace.critical_class or ""),
        ladder=verdict,
        mine=entry.user_id == actor.id and entry.rerun_of is None,
        rerun_of=entry.rerun_of,
    )


def _out(item: results.Interval | None) -> IntervalOut | None:
    return None if item is None else IntervalOut(value=item.value, low=item.low, high=item.high)


def _warning(
    best: results.Interval | None, critical: results.Interval | None, critical_class: str
) -> str | None:
    """Flag a headline score that hides a low recall of the critical class (the brief's Contributor C)."""
    if best is None or best.value is None or critical is None or critical.value is None:
        return None
    if critical.value < CRITICAL_RECALL_FLOOR:
        missed = 1.0 - critical.value
        return f"misses {missed:.0%} of class {critical_class} cases despite {best.value:.2f} on the headline metric"
    return None
