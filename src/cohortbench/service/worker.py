"""Job handlers of the platform, and the worker that runs them (embedded or `cohortbench worker`)."""

from __future__ import annotations

import threading
from functools import partial

from cohortbench.jobs import JobKind, Worker
from cohortbench.jobs.embedded import start_background_worker
from cohortbench.jobs.executors import Executor
from cohortbench.service.evaluation import evaluate_submission
from cohortbench.service.platform import Platform
from cohortbench.service.settlement import give_up_submission
from cohortbench.service.submissions import EVALUATE_JOB


def handlers(platform: Platform, executor: Executor | None = None) -> dict[str, JobKind]:
    """Each job kind with its handler and the hook that ends what it stands for when it fails for good.

    `executor` runs the sandboxed phases (jobs.executors); None: a cold local session per job.
    """
    evaluate = partial(evaluate_submission, platform, executor=executor)
    return {EVALUATE_JOB: JobKind(evaluate, on_give_up=give_up_submission)}


def make_worker(
    platform: Platform,
    *,
    worker_id: str | None = None,
    lease_seconds: float = 60,
    poll_seconds: float = 0.5,
    executor: Executor | None = None,
) -> Worker:
    """A worker for the platform's job kinds. A killed worker's job is picked up again within about
    `lease_seconds` + `poll_seconds` (docs/performance.md, worker recovery). The caller closes
    `executor` once the worker stopped."""
    return Worker(
        platform.sessions,
        handlers(platform, executor),
        worker_id=worker_id,
        lease_seconds=lease_seconds,
        poll_seconds=poll_seconds,
    )


def start_embedded_worker(platform: Platform) -> tuple[threading.Thread, threading.Event]:
    """A worker thread inside the serving process: the embedded default."""
    return start_background_worker(platform.sessions, handlers(platform))
