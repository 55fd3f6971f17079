"""cohortbench.jobs: the durable job queue in the database, the worker that runs it, and the
embedded in-process runner. See `queue` for the lease protocol and `worker.Handler` for the
contract a handler keeps so that a killed worker never causes a lost or duplicated result."""

from cohortbench.jobs.embedded import start_background_worker
from cohortbench.jobs.queue import (
    GiveUpHook,
    GiveUpReason,
    cancel,
    claim,
    complete,
    enqueue,
    fail,
    give_up_on_dead_leases,
    heartbeat,
)
from cohortbench.jobs.worker import Handler, JobContext, JobKind, RetryableError, Worker

__all__ = [
    "GiveUpHook",
    "GiveUpReason",
    "Handler",
    "JobContext",
    "JobKind",
    "RetryableError",
    "Worker",
    "cancel",
    "claim",
    "complete",
    "enqueue",
    "fail",
    "give_up_on_dead_leases",
    "heartbeat",
    "start_background_worker",
]
