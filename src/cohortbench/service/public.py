"""The typed models of everything that leaves through the API, the SDK, the CLI, the pages and the report.

Only `service.release` builds them. A contributor gets the *Public models, whose every field is
itemized in the channel budget (privacy.channels, docs/privacy.md); the owner gets the *Owner
models with exact numbers, free-text-free errors with frames, and the full scorer output.
`extra="forbid"` keeps a field added by mistake from slipping through unnoticed: it must be
declared here, and the budget test then asks how it is released.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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

    frames: list[FrameOut] = []


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


class LeaderboardRowOut(_Model):
    rank: int
    submission_id: int
    contributor: str
    model: str
    framework: str
    status: str
    claimed: float | None
    baseline: IntervalOut | None
    finetuned: IntervalOut | None
    critical_recall: IntervalOut | None
    transfer_ratio: float | None
    ece: float | None
    compute_pflop: float
    energy_kwh: float
    co2e_g: float
    warning: str | None
    ladder: Literal["accepted", "held"] | None = None
    mine: bool
    rerun_of: int | None = None  # the owner's re-run of that submission (owner's boards only)


class LeaderboardOut(_Model):
    """Ranked rows; `score_step` is the rounding of every score shown (None: exact, for the owner)."""

    workspace: str
    metric: str
    critical_class: str
    released: bool
    n_holdout: int
    score_step: float | None
    version: int | None = None  # the cohort version the board is restricted to (None: every version)
    rows: list[LeaderboardRowOut]


class WorkspaceCardOut(_Model):
    """What a member sees of a workspace: its rules and sizes, and their own usage."""

    name: str
    title: str
    description: str
    role: str
    participants: int
    end_date: date | None
    compute_used_pflop: float
    budget_pflop: float
    submissions_used: int
    quota: int
    resources: str
    dataset_id: str
    n_records: int
    n_train: int
    n_holdout: int
    n_features: int
    classes: tuple[str, ...]
    critical_class: str
    primary_metric: str
    published: bool
    score_step: float
    rules: dict[str, Any] | None = None
    feature_groups: dict[str, int] | None = None


class WorkspaceList(_Model):
    data: list[WorkspaceCardOut]
    count: int


class CohortVersionOut(_Model):
    """One cohort version: public sizes; class counts exact for the owner, else protected (see release)."""

    version: int
    created_at: str
    n_records: int
    n_train: int
    n_holdout: int
    holdout_fixed: bool
    class_counts: dict[str, int | None] | None


class CohortVersionList(_Model):
    data: list[CohortVersionOut]
    count: int


class EdaOut(_Model):
    """The released EDA aggregates (privacy.release_eda): cohort-level, the same for every member."""

    mode: str
    cohort: dict[str, Any]
    class_distribution: dict[str, Any]
    summaries: dict[str, Any]
    histograms: dict[str, Any]
    heatmap: dict[str, Any]
    group_overview: dict[str, Any]
    missing: dict[str, Any] = {}
    categories: dict[str, Any] = {}


class MemberOut(_Model):
    user: str
    role: str
    team: str | None


class MemberList(_Model):
    data: list[MemberOut]
    count: int


class CancelOut(_Model):
    id: int
    status: str


class MeOut(_Model):
    name: str
    display_name: str | None
    is_admin: bool


class ColumnSchemaOut(_Model):
    """One feature of the members' schema twin: kind, group, per-class (p5, p95) or (rate, rate), and
    the stored numpy dtype ("" when not numeric), a fact of the schema like the column's name."""

    name: str
    kind: Literal["float", "int", "binary"]
    group: str
    ranges: dict[str, tuple[float, float]]
    dtype: str = ""


class SchemaTwinOut(_Model):
    """The schema twin a member fetches for `cohortbench check`: derived from the released EDA only
    (service.schema), in the shape `privacy.SchemaTwin.from_dict` reads."""

    id_column: str
    label_column: str
    classes: list[str]
    label_dtype: Literal["int", "str"]
    class_shares: dict[str, float | None]
    n_records: int
    columns: list[ColumnSchemaOut]
