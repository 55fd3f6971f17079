"""The privacy budget of a workspace and the ledger of what was spent on what.

Composition is basic sequential composition: epsilons add up and deltas add up. It is loose
but needs no accountant the owner has to trust, and a query that would overspend is refused
before anything is computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cohortbench.errors import ConflictError, ValidationError


class BudgetExhaustedError(ConflictError):
    """A query would spend more privacy budget than the workspace has left."""

    code = "privacy_budget_exhausted"


@dataclass(frozen=True)
class LedgerEntry:
    """One charge: what was released, its cost and when."""

    query: str
    epsilon: float
    delta: float
    timestamp: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "timestamp": self.timestamp,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LedgerEntry:
        return cls(str(data["query"]), float(data["epsilon"]), float(data["delta"]), str(data["timestamp"]))


def _check_cost(epsilon: float, delta: float) -> None:
    if not (math.isfinite(epsilon) and epsilon >= 0 and math.isfinite(delta) and 0 <= delta < 1):
        raise ValidationError(
            f"privacy cost must be epsilon >= 0 and 0 <= delta < 1, got ({epsilon}, {delta})"
        )


@dataclass
class PrivacyLedger:
    """The owner-set budget (epsilon, delta) of one workspace and every charge against it."""

    epsilon: float
    delta: float = 0.0
    entries: list[LedgerEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_cost(self.epsilon, self.delta)
        eps, delta = self.spent
        if eps > self.epsilon or delta > self.delta:
            raise ValidationError(f"ledger entries spend ({eps}, {delta}), more than its budget")

    @property
    def spent(self) -> tuple[float, float]:
        """(epsilon, delta) spent so far."""
        return math.fsum(e.epsilon for e in self.entries), math.fsum(e.delta for e in self.entries)

    @property
    def remaining(self) -> tuple[float, float]:
        """(epsilon, delta) left; never negative."""
        eps, delta = self.spent
        return max(self.epsilon - eps, 0.0), max(self.delta - delta, 0.0)

    def can_afford(self, epsilon: float, delta: float = 0.0) -> bool:
        """Whether a charge of (epsilon, delta) keeps the total within the budget."""
        _check_cost(epsilon, delta)
        eps_total = math.fsum([*(e.epsilon for e in self.entries), epsilon])
        delta_total = math.fsum([*(e.delta for e in self.entries), delta])
        return eps_total <= self.epsilon and delta_total <= self.delta

    def require(self, query: str, epsilon: float, delta: float = 0.0) -> None:
        """Raise BudgetExhaustedError if (epsilon, delta) cannot be afforded; charges nothing."""
        if not self.can_afford(epsilon, delta):
            left_eps, left_delta = self.remaining
            raise BudgetExhaustedError(
                f"query {query!r} needs epsilon={epsilon:.4g}, delta={delta:.2g} but only "
                f"epsilon={left_eps:.4g}, delta={left_delta:.2g} of the workspace budget is left"
            )

    def charge(
        self, query: str, epsilon: float, delta: float = 0.0, *, now: datetime | None = None
    ) -> LedgerEntry:
        """Record a charge, or raise BudgetExhaustedError (and record nothing) if it would overspend."""
        self.require(query, epsilon, delta)
        stamp = (now or datetime.now(UTC)).isoformat()
        entry = LedgerEntry(query, float(epsilon), float(delta), stamp)
        self.entries.append(entry)
        return entry

    def to_dict(self) -> dict[str, Any]:
        eps, delta = self.spent
        return {
            "budget": {"epsilon": self.epsilon, "delta": self.delta},
            "spent": {"epsilon": eps, "delta": delta},
            "entries": [e.to_dict() for e in self.entries],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PrivacyLedger:
        budget = data["budget"]
        entries = [LedgerEntry.from_dict(e) for e in data.get("entries", [])]
        return cls(float(budget["epsilon"]), float(budget.get("delta", 0.0)), entries)
