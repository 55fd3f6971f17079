"""Workspace rules (quota, compute budget, end date, visibility) and the checks a submission must pass.

Rules are typed, bounded pydantic models: an owner's PATCH, a CLI `--set` and a row read back from
the database all pass the same validation, so a value that would crash a card or a job never lands.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from cohortbench.errors import ConflictError, ValidationError
from cohortbench.scoring.registry import PRIMARY_METRICS

Visibility = Literal["live", "after_end", "published"]
VISIBILITIES: tuple[str, ...] = get_args(Visibility)
if TYPE_CHECKING:
    PrimaryMetric = str
else:  # the metric registry's primary metrics, as a Literal (an enum in the API's schema)
    PrimaryMetric = Literal[PRIMARY_METRICS]


def _finite(low: float, high: float, *, open_low: bool = False) -> Any:
    """A strict (no strings, no booleans), finite float bound to [low, high] or (low, high]."""
    if open_low:
        return Field(strict=True, allow_inf_nan=False, gt=low, le=high)
    return Field(strict=True, allow_inf_nan=False, ge=low, le=high)


def _iso_date(value: object) -> object:
    """End dates arrive as YYYY-MM-DD text (JSON, CLI, database); only that text or a date is a date."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"must be YYYY-MM-DD, got {value[:40]!r}") from None
    return value


Quota = Annotated[int, Field(strict=True, ge=1, le=10_000)]
BudgetPflop = Annotated[float, _finite(0.0, 1e6, open_low=True)]
EndDate = Annotated[Annotated[date, Field(strict=True)] | None, BeforeValidator(_iso_date)]
Cpus = Annotated[int, Field(strict=True, ge=1, le=256)]
Gpus = Annotated[int, Field(strict=True, ge=0, le=16)]
MemoryGb = Annotated[float, _finite(0.1, 4096.0)]
GpuMemoryGb = Annotated[float, _finite(0.0, 1024.0)]
DpEpsilon = Annotated[float, _finite(0.0, 100.0, open_low=True)]
DpDelta = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0.0, lt=1.0)]


def explain(exc: pydantic.ValidationError) -> str:
    """'field.sub: message; ...' for each problem: names the field, never echoes a long input."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'rules'}: {e['msg']}" for e in exc.errors())


class Resources(BaseModel):
    """What one job may use (the workspace card shows it: "2 CPU (8.59 GB) | 1 GPU (22.49 GB)")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cpu: Cpus = 2
    memory_gb: MemoryGb = 8.59
    gpu: Gpus = 0
    gpu_memory_gb: GpuMemoryGb = 0.0

    def describe(self) -> str:
        text = f"{self.cpu} CPU ({self.memory_gb:.2f} GB)"
        if self.gpu:
            text += f" | {self.gpu} GPU ({self.gpu_memory_gb:.2f} GB)"
        return text


class Rules(BaseModel):
    """The owner's rules for a workspace. Quota and budget count per contributor (or per team).

    Frozen, unknown fields refused; a bad value raises our ValidationError (422) naming the field.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    quota: Quota = 5
    budget_pflop: BudgetPflop = 100.0
    end_date: EndDate = None
    primary_metric: PrimaryMetric = "macro_f1"
    visibility: Visibility = "published"
    resources: Resources = Field(default_factory=Resources)
    round_scores: Annotated[
        bool,
        Field(
            strict=True,
            deprecated="contributors always see scores rounded by the release policy (docs/privacy.md); "
            "kept so that stored rules still load",
        ),
    ] = True
    ladder: Annotated[bool, Field(strict=True)] = False
    dp_epsilon: DpEpsilon | None = None
    dp_delta: DpDelta = 1e-6

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise ValidationError(f"invalid rules: {explain(exc)}", code="invalid_rules") from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (end_date as YYYY-MM-DD): what the database, the audit log and the API hold."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rules:
        """Validate a mapping (a PATCH merged onto stored rules, a CLI `--set`, a database row)."""
        if not isinstance(data, dict):
            raise ValidationError("rules must be a JSON object", code="invalid_rules")
        return cls(**data)


class ResourcesChange(BaseModel):
    """Some of a job's resources; the others keep their value."""

    model_config = ConfigDict(extra="forbid")

    cpu: Cpus | None = None
    memory_gb: MemoryGb | None = None
    gpu: Gpus | None = None
    gpu_memory_gb: GpuMemoryGb | None = None


class RulesChange(BaseModel):
    """Some of the rules (a PATCH body): each given field is validated as in Rules, unknown ones refused."""

    model_config = ConfigDict(extra="forbid")

    quota: Quota | None = None
    budget_pflop: BudgetPflop | None = None
    end_date: EndDate = None
    primary_metric: PrimaryMetric | None = None
    visibility: Visibility | None = None
    resources: ResourcesChange = Field(default_factory=ResourcesChange)
    round_scores: Annotated[bool, Field(strict=True)] | None = None
    ladder: Annotated[bool, Field(strict=True)] | None = None
    dp_epsilon: DpEpsilon | None = None
    dp_delta: DpDelta | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the caller sent (an explicit null clears end_date or dp_epsilon)."""
        data = self.model_dump(mode="json", exclude_unset=True, exclude={"resources"})
        if "resources" in self.model_fields_set:
            data["resources"] = self.resources.model_dump(exclude_unset=True)
        return data


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
