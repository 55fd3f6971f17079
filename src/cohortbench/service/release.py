"""The one guarded exit: every payload a member reads is built here, from the owner-side view.

The owner gets exact numbers. Everyone else gets each number under the release rule that the
channel budget (privacy.channels) itemizes: scores on the workspace policy's grid, bounded
buckets for what the contributor's code controls, derived numbers computed from released ones
only, and no per-run status before the whole submission has ended (phase timing is a channel).
A field without a rule here does not reach a contributor: the public models forbid extras.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.privacy import coarsen_resources, protect_counts
from cohortbench.privacy.channels import ReleasePolicy, class_score_step, coarsen_compute, loss_trend
from cohortbench.privacy.leaderboard import step_rounder
from cohortbench.sandbox import ERROR_CODES, Limits
from cohortbench.sandbox.compute import CPU_PEAK_FLOP_PER_CORE_S, GPU_PEAK_FLOP_PER_S
from cohortbench.sandbox.errors import DETAILS
from cohortbench.scoring.registry import get_metric
from cohortbench.scoring.transfer import transfer_ratio
from cohortbench.service import growth, ladder, results, workspaces
from cohortbench.service.access import get_workspace
from cohortbench.service.explain import public_message
from cohortbench.service.platform import Platform
from cohortbench.service.public import (
    ClassOut,
    CohortVersionList,
    CohortVersionOut,
    ErrorOut,
    ErrorOwner,
    FrameOut,
    IntervalOut,
    LeaderboardOut,
    LeaderboardRowOut,
    RunOwner,
    RunPublic,
    SchemaTwinOut,
    SubmissionOut,
    SubmissionOwner,
    SubmissionPublic,
    SubmissionSummary,
    TransferOut,
    WorkspaceCardOut,
)
from cohortbench.service.submissions import list_submissions
from cohortbench.service.workspace_rules import rules_of
from cohortbench.store.models import Submission, User, Workspace
from cohortbench.workspaces import estimate_energy
from cohortbench.workspaces.energy import DEFAULT_GRID_G_PER_KWH

FINAL = ("succeeded", "failed", "cancelled")
Rounder = Callable[[float], float]

FIXED = "fixed"
"""Set by the host or chosen by the contributor at upload, or a public fact of the workspace: the
contributor's code cannot move it once the submission exists."""

#: Every field of every model a contributor reads, and the channel of privacy.channels it belongs
#: to (or FIXED). tests/privacy/test_budget.py checks that this covers the models exactly.
RELEASED_FIELDS: dict[str, dict[str, str]] = {
    "SubmissionPublic": {
        **dict.fromkeys(
            ("audience", "id", "workspace", "contributor", "name", "framework", "created_at", "claimed",
             "plan", "bundle_sha256", "score_step"),
            FIXED,
        ),
        "status": "completion time",
        "compute_pflop": "compute",
        "energy_kwh": "derived numbers",
        "co2e_g": "derived numbers",
        "error": "run outcome",
        "loss_trend": "loss curve",
        "top_groups": "feature-group importance",
        "transfer": "derived numbers",
        "ladder": "ladder decision",
        "runs": "run outcome",
    },
    "RunPublic": {
        "phase": FIXED,
        "status": "run outcome",
        "error": "run outcome",
        "wall_time": "wall time",
        "memory": "peak memory",
        "headline": "run outcome",
        "per_class": "run outcome",
    },
    "ClassOut": {"name": FIXED, "support": "holdout class support", "recall": "run outcome"},
    "ErrorOut": {
        "code": "run outcome", "exc_type": "run outcome", "detail": "run outcome", "message": "derived numbers"
    },
    "IntervalOut": {"value": "run outcome", "low": "run outcome", "high": "run outcome"},
    "TransferOut": {
        **dict.fromkeys(("baseline_ratio", "finetune_ratio", "gain"), "derived numbers"),
        "negative_transfer": "negative transfer",
        "worse_on": "negative transfer",
    },
    "SubmissionSummary": {
        **dict.fromkeys(("id", "workspace", "contributor", "name", "framework", "created_at"), FIXED),
        "status": "completion time",
        "compute_pflop": "compute",
        "error": "run outcome",
    },
    "LeaderboardRowOut": {
        **dict.fromkeys(
            ("submission_id", "contributor", "model", "framework", "claimed", "mine", "rerun_of"), FIXED
        ),
        "rank": "derived numbers",
        "status": "completion time",
        "baseline": "run outcome",
        "finetuned": "run outcome",
        "critical_recall": "run outcome",
        "transfer_ratio": "derived numbers",
        "ece": "run outcome",
        "compute_pflop": "compute",
        "energy_kwh": "derived numbers",
        "co2e_g": "derived numbers",
        "warning": "derived numbers",
        "ladder": "ladder decision",
    },
    "LeaderboardOut": {
        **dict.fromkeys(
            ("workspace", "metric", "critical_class", "released", "n_holdout", "score_step", "version"), FIXED
        ),
        "rows": "run outcome",
    },
    "WorkspaceCardOut": {
        **dict.fromkeys(
            ("name", "title", "description", "role", "participants", "end_date", "budget_pflop",
             "submissions_used", "quota", "resources", "dataset_id", "n_records", "n_train", "n_holdout",
             "n_features", "classes", "critical_class", "primary_metric", "published", "score_step", "rules",
             "feature_groups"),
            FIXED,
        ),
        "compute_used_pflop": "derived numbers",
    },
    # facts of the owner's cohort, not of a submission: no contributor code moves them
    "CohortVersionOut": dict.fromkeys(
        ("version", "created_at", "n_records", "n_train", "n_holdout", "holdout_fixed", "class_counts"), FIXED
    ),
    "CohortVersionList": dict.fromkeys(("data", "count"), FIXED),
}  # fmt: skip


def policy_of(session: Session, workspace: Workspace) -> ReleasePolicy:
    """The release policy of a workspace, from its latest cohort version and feature groups."""
    return ReleasePolicy.for_workspace(
        n_holdout=workspaces.latest_version(session, workspace).n_holdout,
        classes=tuple(workspace.classes),
        n_groups=len(importance_units(workspace)[1]),
        run_states=len(ERROR_CODES) + 2,  # succeeded, cancelled, and each failure code
        wall_seconds=Limits().wall_seconds,
        ladder=rules_of(workspace).ladder,
    )


def rounder(policy: ReleasePolicy) -> Rounder:
    """Scores onto the policy's grid, clamped to [0, 1] first so the grid's value count holds."""
    return _on_grid(policy.score_step)


def _on_grid(step: float) -> Rounder:
    on_grid = step_rounder(step)
    return lambda value: on_grid(min(max(float(value), 0.0), 1.0))


def _recall_rounder(support: Any, policy: ReleasePolicy) -> Rounder | None:
    """The grid of a class's recall (coarser for small classes), None when it is not released."""
    step = class_score_step(int(support) if isinstance(support, int | float) else None, policy.score_step)
    return None if step is None else _on_grid(step)


def _support(result_or_headline: Mapping[str, Any] | None, name: str) -> Any:
    """A class's holdout support from a full result (per_class) or a board headline (support)."""
    if not result_or_headline:
        return None
    if "per_class" in result_or_headline:
        return next((pc["support"] for pc in result_or_headline["per_class"] if pc["name"] == name), None)
    return (result_or_headline.get("support") or {}).get(name)


# --- submissions --------------------------------------------------------------------------------


def submission(
    session: Session, *, actor: User, submission_id: int, grid_g_per_kwh: float = DEFAULT_GRID_G_PER_KWH
) -> SubmissionOut:
    """A submission as the actor may see it: exact for the owner, released for everyone else.

    `grid_g_per_kwh` is the deployment's carbon intensity (Settings.grid_g_per_kwh) for the CO2e.
    """
    view, role = results.submission_view(session, actor=actor, submission_id=submission_id)
    workspace = _workspace(session, view.workspace)
    verdict = _ladder_verdict(view.id, view.status, ladder.accepted(session, workspace))
    if role == "owner":
        return _owner_submission(view, workspace, grid_g_per_kwh).model_copy(update={"ladder": verdict})
    return _public_submission(view, workspace, policy_of(session, workspace), verdict, grid_g_per_kwh)


def _ladder_verdict(
    submission_id: int, status: str, accepted: set[int] | None
) -> Literal["accepted", "held"] | None:
    """None unless the workspace runs the Ladder and the submission succeeded."""
    if accepted is None or status != "succeeded":
        return None
    return "accepted" if submission_id in accepted else "held"


def summaries(
    session: Session, *, actor: User, workspace_name: str, grid_g_per_kwh: float = DEFAULT_GRID_G_PER_KWH
) -> list[SubmissionSummary]:
    """The submissions the actor may list, each with the same released numbers as its own page."""
    out = []
    for row in list_submissions(session, actor=actor, workspace_name=workspace_name):
        full = submission(session, actor=actor, submission_id=row.id, grid_g_per_kwh=grid_g_per_kwh)
        out.append(
            SubmissionSummary(
                id=full.id,
                workspace=full.workspace,
                contributor=full.contributor,
                name=full.name,
                framework=full.framework,
                status=full.status,
                created_at=full.created_at,
                compute_pflop=full.compute_pflop,
                error=ErrorOut(
                    code=full.error.code,
                    exc_type=full.error.exc_type,
                    detail=full.error.detail,
                    message=full.error.message,
                )
                if full.error
                else None,
            )
        )
    return out


def _workspace(session: Session, name: str) -> Workspace:
    workspace = session.scalar(select(Workspace).where(Workspace.name == name))
    assert workspace is not None
    return workspace


def _public_submission(
    view: results.SubmissionView,
    workspace: Workspace,
    policy: ReleasePolicy,
    verdict: Literal["accepted", "held"] | None,
    grid: float,
) -> SubmissionPublic:
    """Released numbers; a submission the Ladder held shows none that the holdout decided."""
    final = view.status in FINAL
    held = verdict == "held"
    runs = [_public_run(r, view.status, final, workspace, policy, held=held) for r in view.runs]
    budget = rules_of(workspace).budget_pflop
    compute = coarsen_compute(view.compute_pflop, budget) if final else 0.0
    energy = _energy_of_flop(compute * 1e15, gpu=rules_of(workspace).resources.gpu > 0, grid=grid)
    scored = {r.phase: r for r in view.runs if r.headline and final}
    return SubmissionPublic(
        **_identity(view),
        score_step=policy.score_step,
        compute_pflop=compute,
        energy_kwh=energy[0],
        co2e_g=energy[1],
        error=_error_out(view.error, workspace, policy) if final else None,
        loss_trend=_trend(view) if final else "none",
        top_groups=_top_groups(view, policy.top_groups, importance_units(workspace)[0])
        if final and not held
        else [],
        transfer=_transfer(
            _primary(runs, workspace.primary_metric),
            view.claimed.get(workspace.primary_metric),
            _negative_transfer(view, workspace.primary_metric),
            owner=False,
        )
        if scored and not held
        else None,
        ladder=verdict,
        runs=runs,
    )


def _primary(runs: list[RunPublic], metric: str) -> dict[str, IntervalOut]:
    """Each phase's released primary score (the transfer section derives from these only)."""
    return {r.phase: r.headline[metric] for r in runs if metric in r.headline}


def _public_run(
    run: results.RunView,
    status: str,
    final: bool,
    workspace: Workspace,
    policy: ReleasePolicy,
    *,
    held: bool = False,
) -> RunPublic:
    """One run: its status only once the submission has ended, then buckets and grid scores."""
    if not final:
        return RunPublic(
            phase=run.phase, status=status, error=None, wall_time=None, memory=None, headline={}, per_class=[]
        )
    buckets = (
        coarsen_resources(
            wall_time_s=max(float(run.resources.get("wall_seconds") or 0.0), 0.0),
            peak_memory_bytes=max(int(run.resources.get("peak_memory_bytes") or 0), 0),
        )
        if run.resources
        else None
    )
    headline: dict[str, IntervalOut] = {}
    per_class: list[ClassOut] = []
    if run.headline and run.result and not held:
        rounded = rounder(policy)
        critical = _recall_rounder(_support(run.result, workspace.critical_class or ""), policy)
        for metric in dict.fromkeys((workspace.primary_metric, "critical_recall")):
            grid = critical if metric == "critical_recall" else rounded
            item = results.interval_of(run.headline, metric, grid) if grid else None
            if item is not None:
                headline[metric] = IntervalOut(value=item.value, low=item.low, high=item.high)
        ece = run.headline.get("ece")
        headline["ece"] = IntervalOut(value=None if ece is None else rounded(ece))
        per_class = _classes(run.result, policy)
    return RunPublic(
        phase=run.phase,
        status=run.status,
        error=_error_out(run.error, workspace, policy),
        wall_time=buckets.wall_time if buckets else None,
        memory=buckets.memory if buckets else None,
        headline=headline,
        per_class=per_class,
    )


def _classes(result: Mapping[str, Any], policy: ReleasePolicy) -> list[ClassOut]:
    """Per-class recall on its class's grid; holdout supports under the small-cell rule (complement included)."""
    per_class = result.get("per_class") or []
    support = protect_counts({pc["name"]: int(pc["support"]) for pc in per_class}).cells
    out = []
    for pc in per_class:
        recall = (pc.get("recall") or {}).get("value")
        grid = _recall_rounder(pc["support"], policy)
        shown = support[pc["name"]].value
        out.append(
            ClassOut(
                name=pc["name"],
                support=None if shown is None else int(shown),
                recall=None if recall is None or grid is None else grid(recall),
            )
        )
    return out


def _error_out(
    error: Mapping[str, Any] | None, workspace: Workspace, policy: ReleasePolicy
) -> ErrorOut | None:
    """Code, allow-listed exception name, fixed detail, and a sentence built from those and the public
    schema (service.explain): frames and the sandbox's own text are the owner's (and `check`'s)."""
    if not error:
        return None
    code = str(error.get("code") or "crashed")
    code = code if code in ERROR_CODES else "crashed"
    exc, detail = _allowed(error.get("exc_type")), error.get("detail")
    detail = detail if detail in DETAILS else None
    message = public_message(
        code,
        exc,
        detail,
        n_holdout=policy.n_holdout,
        classes=policy.classes,
        features=[f for cols in (workspace.feature_groups or {}).values() for f in cols],
    )
    return ErrorOut(code=code, exc_type=exc, detail=detail, message=message)


def _allowed(name: Any) -> str | None:
    from cohortbench.privacy.channels import ALLOWED_EXCEPTIONS

    return name if isinstance(name, str) and name in ALLOWED_EXCEPTIONS else None


def _trend(view: results.SubmissionView) -> str:
    return next((loss_trend(r.losses) for r in view.runs if r.phase == "finetune"), "none")


def importance_units(workspace: Workspace) -> tuple[Literal["group", "feature"], list[str]]:
    """What importance is released over: the feature groups, or each feature when there is one group
    only (a single bar says nothing). The policy counts these units, so the top-k rule and its bits
    (privacy.channels "feature-group importance") hold either way."""
    groups = workspace.feature_groups or {}
    if len(groups) >= 2:
        return "group", list(groups)
    return "feature", [f for cols in groups.values() for f in cols]


def _top_groups(view: results.SubmissionView, k: int, kind: str = "group") -> list[str]:
    """The k groups (or features) whose shuffling cost the final phase the most macro-F1, in order."""
    final = next((r for r in reversed(view.runs) if r.result), None)
    if final is None or k == 0 or final.result is None:
        return []
    groups = [i for i in final.result.get("importance") or [] if i.get("kind") == kind]
    scored = [(i["macro_f1"]["mean"], i["name"]) for i in groups if i["macro_f1"].get("mean") is not None]
    return [name for _mean, name in sorted(scored, key=lambda s: (-s[0], s[1]))[:k]]


def _negative_transfer(view: results.SubmissionView, metric: str) -> list[str] | None:
    """Metrics the fine-tune made worse (scoring.transfer: headline, log loss, Brier, critical recall).

    The paired bootstrap verdict stored at finish when there is one; else from the stored Results
    by disjoint intervals (conservative); None without both phases scored.
    """
    from cohortbench.scoring import Result, transfer

    if view.paired_transfer is not None:
        return list(view.paired_transfer.get("worse_on") or [])
    scored = {r.phase: r.result for r in view.runs if r.result}
    if "baseline" not in scored or "finetune" not in scored:
        return None
    verdict = transfer(
        baseline=Result.from_dict(scored["baseline"]),
        finetune=Result.from_dict(scored["finetune"]),
        metric=metric,
    )
    return list(verdict.worse_on)


def _transfer(
    best: Mapping[str, IntervalOut], claimed: float | None, worse_on: list[str] | None, *, owner: bool
) -> TransferOut:
    """Ratios to the claim, the fine-tuning gain, and the negative-transfer verdict.

    A contributor learns whether fine-tuning made anything worse (one bit, itemized); which
    metrics, the owner.
    """
    base, fine = best.get("baseline"), best.get("finetune")

    def ratio(item: IntervalOut | None) -> float | None:
        if item is None or item.value is None or not claimed:
            return None
        return round(item.value / claimed, 4)

    gain = None
    if base and fine and base.value is not None and fine.value is not None:
        gain = round(fine.value - base.value, 6)
    return TransferOut(
        baseline_ratio=ratio(base),
        finetune_ratio=ratio(fine),
        gain=gain,
        negative_transfer=None if worse_on is None else bool(worse_on),
        worse_on=worse_on if owner else None,
    )


def _identity(view: results.SubmissionView) -> dict[str, Any]:
    """The fields the contributor chose or the host set at upload: the same for every audience."""
    return {
        "id": view.id,
        "workspace": view.workspace,
        "contributor": view.contributor,
        "name": view.name,
        "framework": view.framework,
        "status": view.status,
        "created_at": view.created_at,
        "claimed": {k: float(v) for k, v in view.claimed.items()},
        "plan": view.plan,
        "bundle_sha256": view.bundle_sha256,
    }


def _owner_submission(view: results.SubmissionView, workspace: Workspace, grid: float) -> SubmissionOwner:
    cpu = sum(float(r.resources.get("cpu_seconds") or 0.0) for r in view.runs)
    gpu = sum(float(r.resources.get("gpu_seconds") or 0.0) for r in view.runs)
    energy = estimate_energy(cpu_seconds=cpu, gpu_seconds=gpu, grid_g_per_kwh=grid)
    exact: dict[str, IntervalOut] = {}
    for r in view.runs:
        item = results.interval_of(r.headline, workspace.primary_metric, None)
        if item is not None:
            exact[r.phase] = IntervalOut(value=item.value, low=item.low, high=item.high)
    return SubmissionOwner(
        **_identity(view),
        compute_pflop=view.compute_pflop,
        energy_kwh=energy.kwh,
        co2e_g=energy.g_co2e,
        error=_error_owner(view.error),
        loss_trend=_trend(view),
        top_groups=_top_groups(view, len(importance_units(workspace)[1]), importance_units(workspace)[0]),
        transfer=_transfer(
            exact,
            view.claimed.get(workspace.primary_metric),
            _negative_transfer(view, workspace.primary_metric),
            owner=True,
        )
        if exact
        else None,
        runs=[
            RunOwner(
                phase=r.phase,
                status=r.status,
                error=_error_owner(r.error),
                losses=r.losses,
                loss_trend=loss_trend(r.losses),
                resources=r.resources,
                headline=r.headline,
                result=r.result,
            )
            for r in view.runs
        ],
        paired_transfer=view.paired_transfer,
    )


def _error_owner(error: Mapping[str, Any] | None) -> ErrorOwner | None:
    if not error:
        return None
    frames = [
        FrameOut(file=str(f.get("file")), line=int(f.get("line") or 0), function=str(f.get("function")))
        for f in error.get("frames") or []
        if isinstance(f, Mapping)
    ]
    return ErrorOwner(
        code=str(error.get("code") or "crashed"),
        exc_type=error.get("exc_type"),
        detail=error.get("detail"),
        frames=frames,
    )


def _energy_of_flop(flop: float, *, gpu: bool, grid: float) -> tuple[float, float]:
    """Energy of released compute (device time at the nominal peak rate): no new values, no exact time."""
    if gpu:
        energy = estimate_energy(cpu_seconds=0.0, gpu_seconds=flop / GPU_PEAK_FLOP_PER_S, grid_g_per_kwh=grid)
    else:
        energy = estimate_energy(cpu_seconds=flop / CPU_PEAK_FLOP_PER_CORE_S, grid_g_per_kwh=grid)
    return float(f"{energy.kwh:.6g}"), float(f"{energy.g_co2e:.6g}")


# --- leaderboard --------------------------------------------------------------------------------

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


# --- the members' schema twin ---------------------------------------------------------------------


def schema_twin(
    platform: Platform, session: Session, *, actor: User, name: str, eda: Mapping[str, Any]
) -> SchemaTwinOut:
    """The workspace's twin for any member, from the released EDA `eda` (service.eda.workspace_eda) and
    the public schema only (service.schema): post-processing of a release, so no channel of its own."""
    from cohortbench.service import schema

    workspace = _workspace(session, name)
    n_records = workspaces.latest_version(session, workspace).n_records
    features = schema.feature_order(platform, session, workspace)
    return schema.twin_from_eda(workspace, eda, n_records=n_records, features=features)


# --- workspace cards ----------------------------------------------------------------------------


def card(
    session: Session, workspace: Workspace, actor: User, role: str, *, details: bool = False
) -> WorkspaceCardOut:
    """A workspace card; a contributor's compute used is the sum of their released per-submission figures."""
    base = workspaces.card(session, workspace, actor, role)
    policy = policy_of(session, workspace)
    used = base.compute_used_pflop if role == "owner" else _released_compute(session, workspace, actor)
    data = {k: getattr(base, k) for k in WorkspaceCardOut.model_fields if hasattr(base, k)}
    data.update(compute_used_pflop=used, score_step=policy.score_step)
    if details:
        data["rules"] = rules_of(workspace).to_dict()
        data["feature_groups"] = {k: len(v) for k, v in (workspace.feature_groups or {}).items()}
    return WorkspaceCardOut(**data)


def _released_compute(session: Session, workspace: Workspace, actor: User) -> float:
    budget = rules_of(workspace).budget_pflop
    team = workspaces.team_of(session, workspace, actor)
    query = select(Submission.compute_pflop, Submission.status).where(Submission.workspace_id == workspace.id)
    query = query.where(Submission.team == team) if team else query.where(Submission.user_id == actor.id)
    total = sum(
        coarsen_compute(float(pflop or 0.0), budget)
        for pflop, status in session.execute(query)
        if status in FINAL
    )
    return float(f"{total:.6g}")


def cards(session: Session, *, actor: User) -> list[WorkspaceCardOut]:
    """Cards of the workspaces the actor belongs to; one that cannot be built is left out and logged."""
    return workspaces.cards_of_members(session, actor, card)


# --- cohort versions ----------------------------------------------------------------------------


def versions(platform: Platform, session: Session, *, actor: User, workspace_name: str) -> CohortVersionList:
    """The cohort versions: sizes for every member; class counts exact for the owner.

    A contributor gets the latest version's class counts under the small-cell rule (as on the EDA
    page) and none for earlier versions: two versions' counts side by side would give each batch's
    counts by difference, a small cell included.
    """
    workspace, role = get_workspace(session, actor, workspace_name)
    views = growth.versions(platform, session, workspace)
    out = []
    for i, v in enumerate(views):
        if role == "owner":
            counts: dict[str, int | None] | None = dict(v.class_counts)
        elif i == len(views) - 1:
            cells = protect_counts(v.class_counts).cells
            counts = {k: None if c.value is None else int(c.value) for k, c in cells.items()}
        else:
            counts = None
        out.append(
            CohortVersionOut(
                version=v.version,
                created_at=v.created_at.isoformat(),
                n_records=v.n_records,
                n_train=v.n_train,
                n_holdout=v.n_holdout,
                holdout_fixed=v.holdout_fixed,
                class_counts=counts,
            )
        )
    return CohortVersionList(data=out, count=len(out))
