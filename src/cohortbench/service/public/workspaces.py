"""The models of a workspace as a member reads it: the leaderboard, the card, cohort versions, the
released EDA, members, the caller, and the schema twin."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from cohortbench.service.public.model import _Model
from cohortbench.service.public.submissions import IntervalOut


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
    missing: dict[str, Any] = Field(default_factory=dict)
    categories: dict[str, Any] = Field(default_factory=dict)


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
