"""Who may take fine-tuned weights out of a workspace.

Training code written by a contributor can memorise training records inside the weights it
saves, so fine-tuned weights are never released by default: only the workspace owner may
export them, and every export is an audit event the service writes (invariants 5 and 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cohortbench.errors import PermissionDeniedError, ValidationError

ROLES = ("owner", "contributor", "viewer")


@dataclass(frozen=True)
class WeightsExportDecision:
    """The verdict on one export request, and the audit event to write when it is allowed."""

    allowed: bool
    reason: str
    audit_action: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "reason": self.reason, "audit_action": self.audit_action}


def decide_weights_export(*, role: str) -> WeightsExportDecision:
    """Owner: allowed and audited. Anyone else: refused, whatever the bundle or the contributor asks."""
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}; known: {', '.join(ROLES)}")
    if role == "owner":
        return WeightsExportDecision(True, "the owner may export fine-tuned weights", "weights.export")
    return WeightsExportDecision(
        False, "fine-tuned weights stay in the workspace; only the owner may export them", None
    )


def require_weights_export(*, role: str) -> WeightsExportDecision:
    """Like decide_weights_export, but raise PermissionDeniedError when refused."""
    decision = decide_weights_export(role=role)
    if not decision.allowed:
        raise PermissionDeniedError(decision.reason)
    return decision
