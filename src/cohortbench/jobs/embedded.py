"""The embedded default: one worker on a background thread of the serving process."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cohortbench.jobs.worker import Handler, JobKind, Worker

__all__ = ["start_background_worker"]


def start_background_worker(
    session_factory: sessionmaker[Session], handlers: Mapping[str, Handler | JobKind], **worker_options: Any
) -> tuple[threading.Thread, threading.Event]:
    """Start a daemon thread running a Worker; set the returned event (then join) to stop it.

    `worker_options` go to Worker (worker_id, lease_seconds, poll_seconds).
    """
    stop = threading.Event()
    worker = Worker(session_factory, handlers, **worker_options)
    thread = threading.Thread(target=worker.run, args=(stop,), name="cohortbench-worker", daemon=True)
    thread.start()
    return thread, stop
