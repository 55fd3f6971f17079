"""A submission's runs as a contributor sees them: status once the submission ended, resource
buckets, scores on the policy's grids, and an error from the fixed codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cohortbench.privacy import coarsen_resources, protect_counts
from cohortbench.privacy.channels import ReleasePolicy
from cohortbench.sandbox import ERROR_CODES
from cohortbench.sandbox.errors import DETAILS
from cohortbench.service import results
from cohortbench.service.explain import public_message
from cohortbench.service.public import (
    ClassOut,
    ErrorOut,
    IntervalOut,
    RunPublic,
)
from cohortbench.service.release.policy import _recall_rounder, _support, rounder
from cohortbench.store.models import Workspace


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
