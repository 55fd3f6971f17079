"""Database tables (SQLAlchemy 2 typed declarative); the Alembic migrations mirror these exactly.

Timestamps are timezone-aware UTC on every backend: SQLite keeps no zone, so `UTCDateTime`
stores naive UTC there and hands back aware datetimes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "CohortVersion",
    "Job",
    "LeaderboardRelease",
    "Membership",
    "PrivacyLedgerEntry",
    "Result",
    "Run",
    "Submission",
    "UTCDateTime",
    "User",
    "Workspace",
    "utcnow",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (the only kind of timestamp stored)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: cohortbench stores timezone-aware UTC only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so constraint names match the migrations."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}  # noqa: RUF012


def _fk(target: str) -> Any:
    return ForeignKey(target, ondelete="CASCADE")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A token is shown once; only its sha256 is kept (see store.tokens)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_fk("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Workspace(Base):
    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label_column: Mapped[str] = mapped_column(String(200))
    id_column: Mapped[str] = mapped_column(String(200))
    classes: Mapped[list[Any]] = mapped_column(default=list)
    critical_class: Mapped[str | None] = mapped_column(String(200), default=None)
    primary_metric: Mapped[str] = mapped_column(String(64), default="macro_f1")
    quota: Mapped[int] = mapped_column(Integer, default=5)
    budget_pflop: Mapped[float] = mapped_column(Float, default=100.0)
    end_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="live")
    published_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    resources: Mapped[dict[str, Any]] = mapped_column(default=dict)
    feature_groups: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # the rules without a column of their own (service/workspaces/rules.py reads and writes them)
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    # no rule: the cohort's notes and the EDA cache (service/workspaces/notes.py)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dataset_id: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(_fk("workspaces.id"))
    user_id: Mapped[int] = mapped_column(_fk("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CohortVersion(Base):
    __tablename__ = "cohort_versions"
    __table_args__ = (UniqueConstraint("workspace_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(_fk("workspaces.id"))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data_artifact: Mapped[str] = mapped_column(String(64))
    n_records: Mapped[int] = mapped_column(Integer)
    n_train: Mapped[int] = mapped_column(Integer)
    n_holdout: Mapped[int] = mapped_column(Integer)
    split_seed: Mapped[int] = mapped_column(Integer)
    holdout_fraction: Mapped[float] = mapped_column(Float)
    holdout_ids_artifact: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (Index(None, "workspace_id", "user_id"), Index(None, "workspace_id", "team"))
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(_fk("workspaces.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    team: Mapped[str | None] = mapped_column(String(64), default=None)
    cohort_version_id: Mapped[int] = mapped_column(ForeignKey("cohort_versions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    framework: Mapped[str] = mapped_column(String(32))
    bundle_sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(default=dict)
    plan: Mapped[dict[str, Any]] = mapped_column(default=dict)
    claimed: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    public_error: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    compute_pflop: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # What the leaderboard shows of its runs (service.board_record.board_of), written when it finishes.
    board: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # The owner's re-evaluation of that (contributor's) submission on another cohort version; charged
    # to the owner, never shown to contributors (service.rerun).
    rerun_of: Mapped[int | None] = mapped_column(Integer, default=None, index=True)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("submission_id", "phase"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(_fk("submissions.id"))
    phase: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    public_error: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    owner_log_artifact: Mapped[str | None] = mapped_column(String(64), default=None)
    resources: Mapped[dict[str, Any]] = mapped_column(default=dict)
    predictions_artifact: Mapped[str | None] = mapped_column(String(64), default=None)
    weights_artifact: Mapped[str | None] = mapped_column(String(64), default=None)
    losses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Result(Base):
    """One per run: the unique run_id is what makes a retried run finish once, never twice."""

    __tablename__ = "results"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(_fk("runs.id"), unique=True)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    headline: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Job(Base):
    """A durable queue entry; see cohortbench.jobs.queue for the lease protocol."""

    __tablename__ = "jobs"
    __table_args__ = (Index(None, "status", "not_before"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    lease_owner: Mapped[str | None] = mapped_column(String(128), default=None)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    not_before: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class AuditEntry(Base):
    """One link of the hash chain. `id` is the gapless sequence number, assigned by store.audit
    (a database sequence would leave gaps on rollback, which would read as deleted entries)."""

    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    ts: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target: Mapped[str] = mapped_column(String(200), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class PrivacyLedgerEntry(Base):
    __tablename__ = "privacy_ledger"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(_fk("workspaces.id"), index=True)
    query: Mapped[str] = mapped_column(String(200))
    epsilon: Mapped[float] = mapped_column(Float)
    delta: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LeaderboardRelease(Base):
    """The Ladder's "best so far" per user or team: a new score is shown only if it beats this."""

    __tablename__ = "leaderboard_releases"
    __table_args__ = (Index(None, "workspace_id", "user_or_team"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(_fk("workspaces.id"))
    user_or_team: Mapped[str] = mapped_column(String(200))
    submission_id: Mapped[int] = mapped_column(_fk("submissions.id"), index=True)
    shown_score: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
