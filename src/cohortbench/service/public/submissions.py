"""The public and owner models of a submission, its runs, errors, classes and transfer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from cohortbench.service.public.model import _Model


class IntervalOut(_Model):
    """A score and its 95% interval (bounds None when not released)."""

    value: float | None
    low: float | None = None
    high: float | None = None


class ErrorOut(_Model):
    """A failure as a contributor sees it: a fixed code, at most an allow-listed exception name, and
    for bad predictions a fixed word saying what was wrong (sandbox.errors.DETAILS)."""

    code: str
    exc_type: str | None = None
    detail: str | None = None
    message: str | None = None
    """What the workspace expected, from public facts only (service.explain), for the errors they explain."""


class FrameOut(_Model):
    file: str
    line: int
    function: str


class ErrorOwner(ErrorOut):
    """A failure as the owner (and `check` on the schema twin) sees it: with the bundle's frames."""

    frames: list[FrameOut] = Field(default_factory=list)


class ClassOut(_Model):
    """One class of the holdout: its support (small cells suppressed) and the run's recall."""

    name: str
    support: int | None
    recall: float | None


class TransferOut(_Model):
    """Transfer ratios and gain from released scores; negative transfer judged by the scorer.

    `worse_on` (which metrics got worse) is the owner's; a contributor gets the verdict only.
    """

    baseline_ratio: float | None
    finetune_ratio: float | None
    gain: float | None
    negative_transfer: bool | None
    worse_on: list[str] | None = None


class RunPublic(_Model):
    phase: str
    status: str
    error: ErrorOut | None
    wall_time: str | None
    memory: str | None
    headline: dict[str, IntervalOut]
    per_class: list[ClassOut]


class _Submission(_Model):
    """What both views of a submission carry; each adds its audience's error, runs and score step."""

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
    energy_kwh: float
    co2e_g: float
    loss_trend: str
    top_groups: list[str]
    transfer: TransferOut | None
    ladder: Literal["accepted", "held"] | None = None


class SubmissionPublic(_Submission):
    """A submission as its contributor (and teammates) see it: released numbers only."""

    audience: Literal["contributor"] = "contributor"
    score_step: float
    error: ErrorOut | None
    runs: list[RunPublic]


class RunOwner(_Model):
    phase: str
    status: str
    error: ErrorOwner | None
    losses: list[float]
    loss_trend: str
    resources: dict[str, Any]
    headline: dict[str, Any] | None
    result: dict[str, Any] | None


class SubmissionOwner(_Submission):
    """A submission as the workspace owner sees it: exact numbers, the full scorer output."""

    audience: Literal["owner"] = "owner"
    score_step: float | None = None
    error: ErrorOwner | None
    runs: list[RunOwner]
    paired_transfer: dict[str, Any] | None = None


SubmissionOut = SubmissionPublic | SubmissionOwner


class SubmissionSummary(_Model):
    """A row of a submission list (no runs): the same released numbers as the submission."""

    id: int
    workspace: str
    contributor: str
    name: str
    framework: str
    status: str
    created_at: str
    compute_pflop: float
    error: ErrorOut | None


class SubmissionList(_Model):
    data: list[SubmissionSummary]
    count: int
