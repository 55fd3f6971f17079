"""Job handlers of the platform, and the worker that runs them (embedded or `cohortbench worker`)."""

from __future__ import annotations

import threading
from functools import partial

from cohortbench.jobs import Handler, Worker
from cohortbench.jobs.embedded import start_background_worker
from cohortbench.service.evaluation import evaluate_submission
from cohortbench.service.platform import Platform
from cohortbench.service.submissions import EVALUATE_JOB


def handlers(platform: Platform) -> dict[str, Handler]:
    return {EVALUATE_JOB: partial(evaluate_submission, platform)}


def make_worker(platform: Platform, *, worker_id: str | None = None, lease_seconds: int = 60) -> Worker:
    return Worker(platform.sessions, handlers(platform), worker_id=worker_id, lease_seconds=lease_seconds)


def start_embedded_worker(platform: Platform) -> tuple[threading.Thread, threading.Event]:
    """A worker thread inside the serving process: the embedded default."""
    return start_background_worker(platform.sessions, handlers(platform))
