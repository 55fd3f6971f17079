"""The worker in-process: success, retryable and permanent failures, cancellation via heartbeat,
and the embedded background runner."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cohortbench.jobs import JobContext, RetryableError, Worker, queue, start_background_worker
from cohortbench.store.models import Job


def _enqueue(sessions: sessionmaker[Session], kind: str = "work", **payload: object) -> int:
    with sessions() as session, session.begin():
        return queue.enqueue(session, kind, dict(payload)).id


def _job(sessions: sessionmaker[Session], job_id: int) -> Job:
    with sessions() as session:
        return session.get_one(Job, job_id)


def test_a_job_runs_once_and_succeeds(sessions: sessionmaker[Session]) -> None:
    seen: list[tuple[int, str, dict[str, object], int]] = []
    job_id = _enqueue(sessions, x=1)
    worker = Worker(
        sessions, {"work": lambda ctx: seen.append((ctx.job_id, ctx.kind, ctx.payload, ctx.attempt))}
    )
    assert worker.run_once()
    assert not worker.run_once()
    assert seen == [(job_id, "work", {"x": 1}, 1)]
    job = _job(sessions, job_id)
    assert (job.status, job.lease_expires_at, job.last_error) == ("succeeded", None, None)


def test_jobs_of_unknown_kinds_are_left_alone(sessions: sessionmaker[Session]) -> None:
    job_id = _enqueue(sessions, kind="other")
    assert not Worker(sessions, {"work": lambda ctx: None}).run_once()
    assert _job(sessions, job_id).status == "queued"


def test_infrastructure_failures_are_retried(sessions: sessionmaker[Session]) -> None:
    def flaky(ctx: JobContext) -> None:
        raise RetryableError("sandbox could not start")

    job_id = _enqueue(sessions)
    Worker(sessions, {"work": flaky}).run_once()
    job = _job(sessions, job_id)
    assert job.status == "queued" and job.attempts == 1
    assert "sandbox could not start" in (job.last_error or "")


def test_database_outages_in_a_handler_are_retried(sessions: sessionmaker[Session]) -> None:
    def unlucky(ctx: JobContext) -> None:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    job_id = _enqueue(sessions)
    Worker(sessions, {"work": unlucky}).run_once()
    assert _job(sessions, job_id).status == "queued"


def test_model_failures_are_not_retried(sessions: sessionmaker[Session]) -> None:
    def broken(ctx: JobContext) -> None:
        raise ValueError("predict_proba returned 2 columns, expected 3")

    job_id = _enqueue(sessions)
    Worker(sessions, {"work": broken}).run_once()
    job = _job(sessions, job_id)
    assert job.status == "failed" and job.attempts == 1
    assert "ValueError: predict_proba returned 2 columns" in (job.last_error or "")


def test_cancellation_is_noticed_through_the_heartbeat(sessions: sessionmaker[Session]) -> None:
    running, noticed = threading.Event(), threading.Event()

    def long_job(ctx: JobContext) -> None:
        running.set()
        deadline = time.monotonic() + 10
        while not ctx.cancelled() and time.monotonic() < deadline:
            time.sleep(0.02)
        if ctx.cancelled():
            noticed.set()

    job_id = _enqueue(sessions)
    worker = Worker(sessions, {"work": long_job}, lease_seconds=0.3)
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    assert running.wait(10)
    with sessions() as session, session.begin():
        assert queue.cancel(session, job_id)
    cancelled_at = time.monotonic()
    thread.join(10)
    assert noticed.is_set() and time.monotonic() - cancelled_at < 2
    assert _job(sessions, job_id).status == "cancelled"  # not overwritten by "succeeded"


def test_a_cancel_is_noticed_within_the_cancel_poll_however_long_the_lease(
    sessions: sessionmaker[Session],
) -> None:
    """A 60 s lease renews every 20 s; the cancel is looked for every 0.2 s (read-only)."""
    running, noticed = threading.Event(), threading.Event()

    def long_job(ctx: JobContext) -> None:
        running.set()
        deadline = time.monotonic() + 10
        while not ctx.cancelled() and time.monotonic() < deadline:
            time.sleep(0.02)
        if ctx.cancelled():
            noticed.set()

    job_id = _enqueue(sessions)
    worker = Worker(sessions, {"work": long_job}, lease_seconds=60, cancel_poll_seconds=0.2)
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    assert running.wait(10)
    with sessions() as session, session.begin():
        assert queue.cancel(session, job_id)
    cancelled_at = time.monotonic()
    thread.join(10)
    assert noticed.is_set() and time.monotonic() - cancelled_at < 1.5
    assert _job(sessions, job_id).status == "cancelled"


def test_the_heartbeat_keeps_a_long_job_s_lease(sessions: sessionmaker[Session]) -> None:
    def slow(ctx: JobContext) -> None:
        time.sleep(2.5)  # over two leases long

    job_id = _enqueue(sessions)
    # a lease of 1 s (a beat every 0.33 s): with 0.3 s, a beat delayed 0.2 s on a loaded machine
    # let the lease lapse and the job be stolen
    worker = Worker(sessions, {"work": slow}, lease_seconds=1.0)
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    time.sleep(1.4)
    assert Worker(sessions, {"work": slow}).run_once() is False  # lease renewed: nothing to steal
    thread.join(10)
    job = _job(sessions, job_id)
    assert (job.status, job.attempts) == ("succeeded", 1)


def test_the_embedded_worker_runs_jobs_in_the_background(sessions: sessionmaker[Session]) -> None:
    done: list[int] = []
    thread, stop = start_background_worker(
        sessions, {"work": lambda ctx: done.append(ctx.job_id)}, poll_seconds=0.02
    )
    ids = [_enqueue(sessions, n=i) for i in range(3)]
    deadline = time.monotonic() + 10
    while len(done) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert sorted(done) == ids
    assert {_job(sessions, i).status for i in ids} == {"succeeded"}


@pytest.mark.parametrize("max_jobs", [2])
def test_run_stops_after_max_jobs(sessions: sessionmaker[Session], max_jobs: int) -> None:
    ids = [_enqueue(sessions) for _ in range(3)]
    assert Worker(sessions, {"work": lambda ctx: None}, poll_seconds=0.01).run(max_jobs=max_jobs) == max_jobs
    assert [_job(sessions, i).status for i in ids] == ["succeeded", "succeeded", "queued"]
