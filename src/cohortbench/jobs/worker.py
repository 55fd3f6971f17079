"""The worker: claims jobs, runs their handler under a heartbeat, records how they ended."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cohortbench.jobs import queue
from cohortbench.jobs.queue import GiveUpHook, GiveUpReason
from cohortbench.store.models import Job

__all__ = ["Handler", "JobContext", "JobKind", "RetryableError", "Worker"]

log = logging.getLogger(__name__)


class RetryableError(Exception):
    """An infrastructure failure (disk full, sandbox could not start, database hiccup): the job is
    retried with backoff. A database OperationalError (connection lost, lock timeout) counts as one
    too. Any other exception is a permanent (model) failure and is not retried."""


@dataclass
class JobContext:
    """What a handler gets: the job, and a way to renew the lease and notice cancellation."""

    job_id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    _beat: Callable[[], bool] = field(repr=False)
    _stopped: threading.Event = field(default_factory=threading.Event, repr=False)
    _held: Callable[[], bool] = field(default=lambda: True, repr=False)

    def heartbeat(self) -> None:
        """Renew the lease now (the worker also does it in the background)."""
        if not self._beat():
            self._stopped.set()

    def check(self) -> None:
        """Look (read-only) whether the job is still held; if not, `cancelled()` turns True."""
        if not self._held():
            self._stopped.set()

    def cancelled(self) -> bool:
        """True once the job was cancelled or its lease lost: stop and return (nothing is recorded)."""
        return self._stopped.is_set()


class Handler(Protocol):
    """Runs one job. The contract (what makes kill -9 safe):

    - Write results in your own transaction(s), and make them idempotent: a job can run again
      after its results were committed but before the worker marked it complete (a crash in
      between). Key every result on a unique natural key (one Result per Run: `results.run_id` is
      unique), check first whether the work is already done and return if so, and treat an
      IntegrityError on that key as "done by an earlier attempt".
    - Charge quota and budget once, in the same transaction as the result, never per attempt.
    - Raise RetryableError for infrastructure failures; any other exception fails the job for good
      (its text is kept in jobs.last_error, for the owner only).
    - Poll `ctx.cancelled()` between steps (it is cheap: the worker looks at the job every
      `cancel_poll_seconds` in the background); once it is True, return without writing a result.
    """

    def __call__(self, ctx: JobContext, /) -> None: ...


@dataclass(frozen=True)
class JobKind:
    """A handler, and what to do when its job fails for good (`queue.GiveUpHook`).

    `on_give_up(session, job, reason)` runs in the transaction that marks the job failed, whether
    the handler raised, the attempts ran out, or the lease expired on the last attempt (the worker
    died). It is how whatever the job stands for reaches a terminal state with it, while the jobs
    layer knows nothing of it. It must not commit; if it raises, the job's failure is rolled back
    with it and retried at the next poll.
    """

    handler: Handler
    on_give_up: GiveUpHook | None = None


class Worker:
    """Runs jobs of the kinds in `handlers` (a Handler, or a JobKind with its give-up hook), one at
    a time, until stopped.

    While a job runs, a background thread renews its lease every third of `lease_seconds` and looks
    whether it was cancelled every `cancel_poll_seconds`, so a cancel reaches `ctx.cancelled()`
    within about that long, however long the lease.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        handlers: Mapping[str, Handler | JobKind],
        *,
        worker_id: str | None = None,
        lease_seconds: float = 30,
        poll_seconds: float = 0.5,
        cancel_poll_seconds: float = 1.0,
    ) -> None:
        self.sessions = session_factory
        self.kinds = {k: h if isinstance(h, JobKind) else JobKind(h) for k, h in handlers.items()}
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.cancel_poll_seconds = cancel_poll_seconds

    def run(self, stop: threading.Event | None = None, max_jobs: int | None = None) -> int:
        """Work until `stop` is set or `max_jobs` jobs ran; return how many ran."""
        stop = stop or threading.Event()
        done = 0
        while not stop.is_set() and (max_jobs is None or done < max_jobs):
            try:
                ran = self.run_once()
            except SQLAlchemyError:  # the database is away for a moment: the leases cover it
                log.warning("worker %s: database error, retrying", self.worker_id, exc_info=True)
                ran = False
            except Exception:  # a give-up hook failed: its job stays as it was, retried next poll
                log.exception("worker %s: error outside a handler, retrying", self.worker_id)
                ran = False
            if ran:
                done += 1
            else:
                stop.wait(self.poll_seconds)
        return done

    def run_once(self) -> bool:
        """Give up the jobs that died on their last attempt, claim and run one job; False when none
        was ready (the give-ups are committed either way)."""
        with self.sessions() as session, session.begin():
            job = queue.claim(
                session,
                worker_id=self.worker_id,
                lease_seconds=self.lease_seconds,
                kinds=sorted(self.kinds),
                on_give_up=self._give_up,
            )
            if job is None:
                return False
            ctx = JobContext(
                job.id,
                job.kind,
                dict(job.payload),
                job.attempts,
                self._beat_for(job.id),
                _held=self._held(job.id),
            )
            session.commit()
        self._execute(ctx)
        return True

    def _beat_for(self, job_id: int) -> Callable[[], bool]:
        def beat() -> bool:
            with self.sessions() as session, session.begin():
                return queue.heartbeat(session, job_id, self.worker_id, self.lease_seconds)

        return beat

    def _held(self, job_id: int) -> Callable[[], bool]:
        def held() -> bool:
            with self.sessions() as session:
                return queue.held(session, job_id, self.worker_id)

        return held

    def _execute(self, ctx: JobContext) -> None:
        finished = threading.Event()
        beater = threading.Thread(target=self._heartbeat_loop, args=(ctx, finished), daemon=True)
        beater.start()
        outcome: tuple[str, str | None] = ("complete", None)
        try:
            self.kinds[ctx.kind].handler(ctx)
        except (RetryableError, OperationalError) as exc:
            outcome = ("retry", _describe(exc))
        except Exception as exc:
            outcome = ("fail", _describe(exc))
        finally:
            finished.set()
            beater.join()
        self._record(ctx, *outcome)

    def _heartbeat_loop(self, ctx: JobContext, finished: threading.Event) -> None:
        beat_every = self.lease_seconds / 3
        next_beat = time.monotonic() + beat_every
        while not finished.wait(min(beat_every, self.cancel_poll_seconds)):
            try:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + beat_every
                    ctx.heartbeat()
                else:
                    ctx.check()
            except Exception:  # a database hiccup: try again next time; the lease has slack
                log.warning("heartbeat of job %s failed", ctx.job_id, exc_info=True)

    def _record(self, ctx: JobContext, outcome: str, error: str | None) -> None:
        with self.sessions() as session, session.begin():
            if outcome == "complete":
                held = queue.complete(session, ctx.job_id, self.worker_id)
            else:
                held = queue.fail(
                    session,
                    ctx.job_id,
                    self.worker_id,
                    error=error or "",
                    retryable=outcome == "retry",
                    on_give_up=self._give_up,
                )
        if not held:
            log.info("job %s: lease lost or cancelled before it could be marked %s", ctx.job_id, outcome)

    def _give_up(self, session: Session, job: Job, reason: GiveUpReason) -> None:
        kind = self.kinds.get(job.kind)
        if kind is not None and kind.on_give_up is not None:
            kind.on_give_up(session, job, reason)
        log.warning("job %s (%s) failed for good: %s", job.id, job.kind, reason)


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)).strip()
