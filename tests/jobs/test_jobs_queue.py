"""The queue's lease protocol on SQLite and PostgreSQL: claims, expiry, retries, cancellation."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from cohortbench.jobs import queue
from cohortbench.store.models import Job, utcnow


def _enqueue(sessions: sessionmaker[Session], n: int = 1, **kwargs: object) -> list[int]:
    with sessions() as session, session.begin():
        return [queue.enqueue(session, "evaluate", {"n": i}, **kwargs).id for i in range(n)]  # type: ignore[arg-type]


def _claim(sessions: sessionmaker[Session], worker: str, lease: float = 30.0) -> Job | None:
    with sessions() as session, session.begin():
        return queue.claim(session, worker_id=worker, lease_seconds=lease)


def _job(sessions: sessionmaker[Session], job_id: int) -> Job:
    with sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _expire_lease(sessions: sessionmaker[Session], job_id: int) -> None:
    with sessions() as session, session.begin():
        past = utcnow() - dt.timedelta(seconds=1)
        session.execute(update(Job).where(Job.id == job_id).values(lease_expires_at=past))


def _make_ready(sessions: sessionmaker[Session], job_id: int) -> None:
    with sessions() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id).values(not_before=utcnow()))


def test_enqueue_is_idempotent_on_its_key(sessions: sessionmaker[Session]) -> None:
    first = _enqueue(sessions, idempotency_key="submission:7")
    second = _enqueue(sessions, idempotency_key="submission:7")
    other = _enqueue(sessions, idempotency_key="submission:8")
    assert first == second != other


def test_claims_are_oldest_first_and_exclusive(sessions: sessionmaker[Session]) -> None:
    ids = _enqueue(sessions, 3)
    claimed = [_claim(sessions, "w1"), _claim(sessions, "w2"), _claim(sessions, "w1")]
    assert [job.id for job in claimed if job] == ids
    assert _claim(sessions, "w3") is None
    job = _job(sessions, ids[0])
    assert (job.status, job.lease_owner, job.attempts) == ("running", "w1", 1)


def test_claims_filter_by_kind(sessions: sessionmaker[Session]) -> None:
    _enqueue(sessions)
    with sessions() as session, session.begin():
        assert queue.claim(session, worker_id="w", lease_seconds=5, kinds=["other"]) is None
        assert queue.claim(session, worker_id="w", lease_seconds=5, kinds=["evaluate"]) is not None


def test_an_expired_lease_is_reclaimed_and_the_old_owner_loses_it(sessions: sessionmaker[Session]) -> None:
    (job_id,) = _enqueue(sessions)
    assert _claim(sessions, "dead") is not None
    assert _claim(sessions, "alive") is None  # lease still valid
    _expire_lease(sessions, job_id)
    reclaimed = _claim(sessions, "alive")
    assert reclaimed is not None and reclaimed.attempts == 2
    with sessions() as session, session.begin():
        assert not queue.heartbeat(session, job_id, "dead", 30)
        assert not queue.complete(session, job_id, "dead")
        assert queue.heartbeat(session, job_id, "alive", 30)
        assert queue.complete(session, job_id, "alive")
    assert _job(sessions, job_id).status == "succeeded"


def test_retryable_failures_back_off_then_give_up(sessions: sessionmaker[Session]) -> None:
    (job_id,) = _enqueue(sessions, max_attempts=2)
    _claim(sessions, "w")
    with sessions() as session, session.begin():
        assert queue.fail(session, job_id, "w", error="disk full", retryable=True)
    job = _job(sessions, job_id)
    assert job.status == "queued" and job.not_before > utcnow() + dt.timedelta(seconds=1)
    assert _claim(sessions, "w") is None  # backing off
    _make_ready(sessions, job_id)
    assert _claim(sessions, "w") is not None
    with sessions() as session, session.begin():
        queue.fail(session, job_id, "w", error="disk full again", retryable=True)
    job = _job(sessions, job_id)
    assert (job.status, job.attempts, job.last_error) == ("failed", 2, "disk full again")
    assert job.finished_at is not None


def test_a_permanent_failure_is_not_retried(sessions: sessionmaker[Session]) -> None:
    (job_id,) = _enqueue(sessions)
    _claim(sessions, "w")
    with sessions() as session, session.begin():
        queue.fail(session, job_id, "w", error="ValueError: shapes differ", retryable=False)
    job = _job(sessions, job_id)
    assert (job.status, job.attempts) == ("failed", 1)


def test_a_job_that_kills_every_worker_fails_after_its_attempts(sessions: sessionmaker[Session]) -> None:
    (job_id,) = _enqueue(sessions, max_attempts=2)
    for _ in range(2):
        assert _claim(sessions, "w") is not None
        _expire_lease(sessions, job_id)
    assert _claim(sessions, "w") is None
    job = _job(sessions, job_id)
    assert job.status == "failed" and "lease expired" in (job.last_error or "")


def test_cancelling_a_running_job_ends_its_lease(sessions: sessionmaker[Session]) -> None:
    queued, running = _enqueue(sessions, 2)
    _claim(sessions, "w")
    with sessions() as session, session.begin():
        assert queue.cancel(session, running)
        assert queue.cancel(session, queued)
        assert not queue.heartbeat(session, queued, "w", 30)
        assert not queue.complete(session, queued, "w")
    assert {_job(sessions, i).status for i in (queued, running)} == {"cancelled"}
    assert _claim(sessions, "w2") is None
    with sessions() as session, session.begin():
        assert not queue.cancel(session, queued)  # already finished


def test_backoff_grows_and_is_capped() -> None:
    delays = [queue.backoff_seconds(n) for n in range(1, 12)]
    assert delays[:3] == [2.0, 4.0, 8.0]
    assert delays == sorted(delays) and delays[-1] == queue.BACKOFF_MAX_SECONDS


@pytest.mark.parametrize("n_workers", [4])
def test_concurrent_workers_never_hold_the_same_job(sessions: sessionmaker[Session], n_workers: int) -> None:
    job_ids = _enqueue(sessions, 40)
    claims: dict[str, list[int]] = {f"w{i}": [] for i in range(n_workers)}
    start = threading.Barrier(n_workers)

    def work(worker: str) -> None:
        start.wait()
        while (job := _claim(sessions, worker)) is not None:
            claims[worker].append(job.id)
            time.sleep(0.001)

    threads = [threading.Thread(target=work, args=(w,)) for w in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = [job_id for ids in claims.values() for job_id in ids]
    assert sorted(taken) == job_ids  # each job claimed exactly once, none lost
    assert sum(1 for ids in claims.values() if ids) >= 2  # the workers really did compete
