"""Numbers derived from a submission's stored view (transfer, loss trend, top groups) and its
identity: shared by the owner's exact payload and the contributor's released one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cohortbench.privacy.channels import loss_trend
from cohortbench.service import results
from cohortbench.service.public import (
    IntervalOut,
    TransferOut,
)


def _trend(view: results.SubmissionView) -> str:
    return next((loss_trend(r.losses) for r in view.runs if r.phase == "finetune"), "none")


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
