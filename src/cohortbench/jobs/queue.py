"""The durable job queue: rows in the `jobs` table, claimed under a lease that heartbeats renew.

A worker that dies (kill -9, a lost machine) stops renewing its lease; once the lease expires
another worker reclaims the job, so nothing is lost. Every state change is a conditional UPDATE
on (id, status, lease_owner), so a worker whose lease was taken over or whose job was cancelled
changes nothing. No function here commits: the caller commits (so `enqueue` can share the
transaction that creates the submission, and a job exists exactly when its submission does).

A job ends for good in three ways: its handler raised a permanent error, it ran out of attempts on
retryable ones, or its lease expired on its last attempt (every worker that ran it died). Each
calls the caller's `on_give_up(session, job, reason)` in the very transaction that marks the job
failed, so whatever the job stood for (a submission, its runs) ends with it or not at all.
Times come from the workers' clocks, which must roughly agree (well under a lease).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cohortbench.errors import NotFoundError, ValidationError
from cohortbench.store.models import Job, utcnow

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_MAX_SECONDS",
    "GiveUpHook",
    "GiveUpReason",
    "backoff_seconds",
    "cancel",
    "claim",
    "complete",
    "enqueue",
    "fail",
    "give_up_on_dead_leases",
    "heartbeat",
    "held",
]

#: Why a job failed for good: its handler raised a permanent error, it used up its attempts on
#: retryable ones, or its lease expired on the last attempt (the worker died every time).
GiveUpReason = Literal["handler_error", "attempts_exhausted", "lease_expired"]
#: Called with the job already marked failed, in the transaction that marked it; may write more.
GiveUpHook = Callable[[Session, Job, GiveUpReason], None]
LEASE_EXPIRED_ERROR = "the worker running it stopped (lease expired) on the last attempt"

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0
_CLAIM_TRIES = 5


def backoff_seconds(attempts: int) -> float:
    """Delay before retry number `attempts` (1, 2, ...): 2 s, 4 s, 8 s ..., capped at 5 minutes."""
    return float(min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)))


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    idempotency_key: str | None = None,
    max_attempts: int = 3,
) -> Job:
    """Add a job (flushed, not committed). With a key already used, return the existing job."""
    if max_attempts < 1:
        raise ValidationError(f"max_attempts must be at least 1, got {max_attempts}")
    values = {
        "kind": kind,
        "payload": payload,
        "max_attempts": max_attempts,
        "status": "queued",
        "attempts": 0,
        "not_before": utcnow(),
        "created_at": utcnow(),
    }
    if idempotency_key is None:
        job = Job(**values)
        session.add(job)
        session.flush()
        return job
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(Job).values(idempotency_key=idempotency_key, **values)
    session.execute(statement.on_conflict_do_nothing(index_elements=["idempotency_key"]))
    return session.scalars(select(Job).where(Job.idempotency_key == idempotency_key)).one()


def _claimable(now: dt.datetime, kinds: Sequence[str] | None) -> ColumnElement[bool]:
    ready = and_(Job.status == "queued", Job.not_before <= now)
    expired = and_(Job.status == "running", Job.lease_expires_at < now, Job.attempts < Job.max_attempts)
    condition = or_(ready, expired)
    return and_(condition, Job.kind.in_(kinds)) if kinds is not None else condition


def give_up_on_dead_leases(
    session: Session,
    *,
    kinds: Sequence[str] | None = None,
    on_give_up: GiveUpHook | None = None,
    now: dt.datetime | None = None,
) -> list[int]:
    """Fail each job whose lease expired on its last attempt (it crashed every worker that ran it)
    and call `on_give_up` for it; return their ids. One conditional UPDATE per job, so of two
    workers reaping at once only one gives a job up and calls the hook."""
    now = now or utcnow()
    dead = and_(Job.status == "running", Job.lease_expires_at < now, Job.attempts >= Job.max_attempts)
    if kinds is not None:
        dead = and_(dead, Job.kind.in_(kinds))
    given_up = []
    for job_id in session.scalars(select(Job.id).where(dead).order_by(Job.id)).all():
        failed = session.execute(
            update(Job)
            .where(Job.id == job_id, dead)
            .values(
                status="failed",
                finished_at=now,
                lease_owner=None,
                lease_expires_at=None,
                last_error=LEASE_EXPIRED_ERROR,
            )
        )
        if failed.rowcount == 1:  # type: ignore[attr-defined]
            given_up.append(job_id)
            _call_hook(session, job_id, "lease_expired", on_give_up)
    return given_up


def _call_hook(session: Session, job_id: int, reason: GiveUpReason, on_give_up: GiveUpHook | None) -> None:
    if on_give_up is not None:
        on_give_up(session, session.get_one(Job, job_id, populate_existing=True), reason)


def claim(
    session: Session,
    *,
    worker_id: str,
    lease_seconds: float,
    kinds: Sequence[str] | None = None,
    on_give_up: GiveUpHook | None = None,
) -> Job | None:
    """Take the oldest ready job (or one whose lease expired) under a fresh lease; None if none.

    First gives up (`give_up_on_dead_leases`) the jobs of `kinds` that died on their last attempt.
    PostgreSQL picks with SELECT ... FOR UPDATE SKIP LOCKED, so workers never wait on each other;
    SQLite (one writer at a time) picks a candidate and takes it with a conditional UPDATE,
    retrying if another worker got it first. The caller commits, also when None is returned:
    the give-ups are in the transaction.
    """
    now = utcnow()
    give_up_on_dead_leases(session, kinds=kinds, on_give_up=on_give_up, now=now)
    postgres = session.get_bind().dialect.name == "postgresql"
    for _ in range(_CLAIM_TRIES):
        query = select(Job.id).where(_claimable(now, kinds)).order_by(Job.not_before, Job.id).limit(1)
        if postgres:
            query = query.with_for_update(skip_locked=True)
        job_id = session.scalar(query)
        if job_id is None:
            return None
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, _claimable(now, kinds))
            .values(
                status="running",
                attempts=Job.attempts + 1,
                lease_owner=worker_id,
                heartbeat_at=now,
                lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
            )
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return session.get(Job, job_id, populate_existing=True)
    return None


def _held(job_id: int, worker_id: str) -> ColumnElement[bool]:
    return and_(Job.id == job_id, Job.status == "running", Job.lease_owner == worker_id)


def _update_held(session: Session, job_id: int, worker_id: str, **values: Any) -> bool:
    result = session.execute(update(Job).where(_held(job_id, worker_id)).values(**values))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def held(session: Session, job_id: int, worker_id: str) -> bool:
    """Whether `worker_id` still holds the running job (read-only: cheap enough to poll each second)."""
    return session.scalar(select(Job.id).where(_held(job_id, worker_id))) is not None


def heartbeat(session: Session, job_id: int, worker_id: str, lease_seconds: float) -> bool:
    """Renew the lease; False when it was lost (expired and taken over) or the job was cancelled."""
    now = utcnow()
    expires = now + dt.timedelta(seconds=lease_seconds)
    return _update_held(session, job_id, worker_id, heartbeat_at=now, lease_expires_at=expires)


def complete(session: Session, job_id: int, worker_id: str) -> bool:
    """Mark the job succeeded; False (and nothing changed) if this worker no longer holds it."""
    now = utcnow()
    return _update_held(
        session, job_id, worker_id, status="succeeded", finished_at=now, lease_expires_at=None
    )


def fail(
    session: Session,
    job_id: int,
    worker_id: str,
    *,
    error: str,
    retryable: bool,
    on_give_up: GiveUpHook | None = None,
) -> bool:
    """Record a failure. Retryable and attempts left: back to the queue after a backoff;
    otherwise failed for good, and `on_give_up` runs in this transaction. `error` is kept for the
    owner only. False (nothing changed, no hook) if the lease was lost."""
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise NotFoundError(f"job {job_id} not found")
    now = utcnow()
    if retryable and job.attempts < job.max_attempts:
        not_before = now + dt.timedelta(seconds=backoff_seconds(job.attempts))
        return _update_held(
            session,
            job_id,
            worker_id,
            status="queued",
            not_before=not_before,
            lease_owner=None,
            lease_expires_at=None,
            last_error=error,
        )
    failed = _update_held(
        session, job_id, worker_id, status="failed", finished_at=now, lease_expires_at=None, last_error=error
    )
    if failed:
        _call_hook(session, job_id, "attempts_exhausted" if retryable else "handler_error", on_give_up)
    return failed


def cancel(session: Session, job_id: int) -> bool:
    """Cancel a queued or running job (a running one's worker sees it at its next heartbeat).
    False if the job had already finished."""
    if session.get(Job, job_id) is None:
        raise NotFoundError(f"job {job_id} not found")
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.status.in_(("queued", "running")))
        .values(status="cancelled", finished_at=utcnow(), lease_expires_at=None)
    )
    result = session.execute(statement)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
