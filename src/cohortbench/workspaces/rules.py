"""Workspace rules (quota, compute budget, end date, visibility) and the checks a submission must pass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any, Literal

from cohortbench.errors import ConflictError, ValidationError

Visibility = Literal["live", "after_end", "published"]
VISIBILITIES: tuple[str, ...] = ("live", "after_end", "published")
PRIMARY_METRICS: tuple[str, ...] = (
    "macro_f1",
    "balanced_accuracy",
    "accuracy",
    "weighted_f1",
    "critical_recall",
)


@dataclass(frozen=True)
class Resources:
    """What one job may use (the workspace card shows it: "2 CPU (8.59 GB) | 1 GPU (22.49 GB)")."""

    cpu: int = 2
    memory_gb: float = 8.59
    gpu: int = 0
    gpu_memory_gb: float = 0.0

    def describe(self) -> str:
        text = f"{self.cpu} CPU ({self.memory_gb:.2f} GB)"
        if self.gpu:
            text += f" | {self.gpu} GPU ({self.gpu_memory_gb:.2f} GB)"
        return text


@dataclass(frozen=True)
class Rules:
    """The owner's rules for a workspace. Quota and budget count per contributor (or per team)."""

    quota: int = 5
    budget_pflop: float = 100.0
    end_date: date | None = None
    primary_metric: str = "macro_f1"
    visibility: Visibility = "published"
    resources: Resources = field(default_factory=Resources)
    round_scores: bool = True
    ladder: bool = False
    dp_epsilon: float | None = None
    dp_delta: float = 1e-6

    def __post_init__(self) -> None:
        problems = []
        if self.quota < 1:
            problems.append(f"quota must be at least 1, got {self.quota}")
        if self.budget_pflop <= 0:
            problems.append(f"budget_pflop must be positive, got {self.budget_pflop}")
        if self.primary_metric not in PRIMARY_METRICS:
            problems.append(f"primary_metric must be one of {', '.join(PRIMARY_METRICS)}")
        if self.visibility not in VISIBILITIES:
            problems.append(f"visibility must be one of {', '.join(VISIBILITIES)}, got {self.visibility!r}")
        if self.dp_epsilon is not None and self.dp_epsilon <= 0:
            problems.append("dp_epsilon must be positive")
        if problems:
            raise ValidationError("; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["end_date"] = self.end_date.isoformat() if self.end_date else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rules:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"unknown rule(s): {', '.join(unknown)}")
        values = dict(data)
        if isinstance(values.get("end_date"), str):
            try:
                values["end_date"] = date.fromisoformat(values["end_date"])
            except ValueError:
                raise ValidationError(f"end_date must be YYYY-MM-DD, got {values['end_date']!r}") from None
        if isinstance(values.get("resources"), dict):
            values["resources"] = Resources(**values["resources"])
        return cls(**values)


def check_can_submit(rules: Rules, *, today: date, submissions_used: int, pflop_used: float) -> None:
    """Refuse a submission after the end date, past the quota, or with the compute budget spent."""
    if rules.end_date is not None and today > rules.end_date:
        raise ConflictError(f"the workspace closed on {rules.end_date.isoformat()}", code="workspace_closed")
    if submissions_used >= rules.quota:
        raise ConflictError(
            f"submission quota used up ({submissions_used}/{rules.quota})", code="quota_exhausted"
        )
    if pflop_used >= rules.budget_pflop:
        raise ConflictError(
            f"compute budget used up ({pflop_used:.2f}/{rules.budget_pflop:.2f} PF)", code="budget_exhausted"
        )


def leaderboard_released(rules: Rules, *, today: date, published: bool) -> bool:
    """Whether contributors may see each other's results yet."""
    if rules.visibility == "live":
        return True
    if rules.visibility == "after_end":
        return published or (rules.end_date is not None and today > rules.end_date)
    return published
