"""A job that fails for good calls its kind's give-up hook, in the transaction that fails it: on a
handler error, on attempts used up, and on a lease that expired on the last attempt, which is
committed even when nothing else can be claimed. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from cohortbench.jobs import GiveUpReason, JobContext, JobKind, RetryableError, Worker, queue
from cohortbench.store.models import Job, utcnow

Calls = list[tuple[int, GiveUpReason, str]]


def _enqueue(sessions: sessionmaker[Session], kind: str = "work", max_attempts: int = 3) -> int:
    with sessions() as session, session.begin():
        return queue.enqueue(session, kind, {}, max_attempts=max_attempts).id


def _job(sessions: sessionmaker[Session], job_id: int) -> Job:
    with sessions() as session:
        return session.get_one(Job, job_id)


def _recording(calls: Calls) -> queue.GiveUpHook:
    """A hook that records what it saw and writes to the job's payload (to see it commit with it)."""

    def hook(session: Session, job: Job, reason: GiveUpReason) -> None:
        calls.append((job.id, reason, job.status))
        job.payload = {**job.payload, "given_up": reason}

    return hook


def _expire_lease(sessions: sessionmaker[Session], job_id: int) -> None:
    with sessions() as session, session.begin():
        past = utcnow() - dt.timedelta(seconds=1)
        session.execute(update(Job).where(Job.id == job_id).values(lease_expires_at=past))


def _orphan(sessions: sessionmaker[Session], job_id: int, attempts: int) -> None:
    """As if `attempts` workers each claimed the job and died."""
    for _ in range(attempts):
        with sessions() as session, session.begin():
            assert queue.claim(session, worker_id="dead", lease_seconds=30) is not None
        _expire_lease(sessions, job_id)


def test_a_raising_handler_gives_up_once_in_the_failing_transaction(sessions: sessionmaker[Session]) -> None:
    def broken(ctx: JobContext) -> None:
        raise KeyError("a bug outside the sandbox")

    calls: Calls = []
    job_id = _enqueue(sessions)
    Worker(sessions, {"work": JobKind(broken, on_give_up=_recording(calls))}).run_once()
    assert calls == [(job_id, "handler_error", "failed")]
    job = _job(sessions, job_id)
    assert (job.status, job.payload) == ("failed", {"given_up": "handler_error"})
    assert "KeyError" in (job.last_error or "")


def test_retries_give_up_only_when_the_attempts_are_used_up(sessions: sessionmaker[Session]) -> None:
    def flaky(ctx: JobContext) -> None:
        raise RetryableError("sandbox could not start")

    calls: Calls = []
    job_id = _enqueue(sessions, max_attempts=2)
    worker = Worker(sessions, {"work": JobKind(flaky, on_give_up=_recording(calls))})
    worker.run_once()
    assert calls == [] and _job(sessions, job_id).status == "queued"
    with sessions() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id).values(not_before=utcnow()))
    worker.run_once()
    assert calls == [(job_id, "attempts_exhausted", "failed")]


def test_a_dead_last_lease_is_given_up_and_committed_when_nothing_is_claimable(
    sessions: sessionmaker[Session],
) -> None:
    calls: Calls = []
    job_id = _enqueue(sessions, max_attempts=2)
    _orphan(sessions, job_id, attempts=2)
    worker = Worker(sessions, {"work": JobKind(lambda ctx: None, on_give_up=_recording(calls))})
    assert worker.run_once() is False  # nothing to run ...
    assert calls == [(job_id, "lease_expired", "failed")]
    job = _job(sessions, job_id)  # ... but the give-up and the hook's write were committed
    assert (job.status, job.payload, job.lease_expires_at) == ("failed", {"given_up": "lease_expired"}, None)
    assert "lease expired" in (job.last_error or "")
    assert worker.run_once() is False and len(calls) == 1  # given up once


def test_a_dead_lease_with_attempts_left_is_retried_not_given_up(sessions: sessionmaker[Session]) -> None:
    calls: Calls = []
    ran: list[int] = []
    job_id = _enqueue(sessions, max_attempts=2)
    _orphan(sessions, job_id, attempts=1)
    worker = Worker(sessions, {"work": JobKind(lambda ctx: ran.append(ctx.attempt), _recording(calls))})
    assert worker.run_once()
    assert (ran, calls, _job(sessions, job_id).status) == ([2], [], "succeeded")


def test_only_a_worker_of_the_job_s_kind_gives_it_up(sessions: sessionmaker[Session]) -> None:
    calls: Calls = []
    job_id = _enqueue(sessions, kind="other", max_attempts=1)
    _orphan(sessions, job_id, attempts=1)
    assert Worker(sessions, {"work": lambda ctx: None}).run_once() is False
    assert _job(sessions, job_id).status == "running"  # left for a worker that knows its hook
    Worker(sessions, {"other": JobKind(lambda ctx: None, _recording(calls))}).run_once()
    assert calls == [(job_id, "lease_expired", "failed")]


def test_a_failing_hook_rolls_the_give_up_back_and_the_worker_keeps_going(
    sessions: sessionmaker[Session],
) -> None:
    attempts = []

    def hook(session: Session, job: Job, reason: GiveUpReason) -> None:
        attempts.append(reason)
        if len(attempts) == 1:
            raise RuntimeError("hook bug")

    job_id = _enqueue(sessions, max_attempts=1)
    _orphan(sessions, job_id, attempts=1)
    worker = Worker(sessions, {"work": JobKind(lambda ctx: None, hook)}, poll_seconds=0.01)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    deadline = utcnow() + dt.timedelta(seconds=10)
    while len(attempts) < 2 and utcnow() < deadline:
        stop.wait(0.01)
    stop.set()
    thread.join(10)
    assert attempts[:2] == ["lease_expired", "lease_expired"]  # rolled back, then done again
    assert _job(sessions, job_id).status == "failed"


def test_a_plain_handler_needs_no_hook(sessions: sessionmaker[Session]) -> None:
    def broken(ctx: JobContext) -> None:
        raise ValueError("no hook registered")

    job_id = _enqueue(sessions)
    Worker(sessions, {"work": broken}).run_once()
    assert _job(sessions, job_id).status == "failed"
