"""A worker process for the kill -9 tests: `python kill_worker.py DB_URL MARKER_DIR LEASE_SECONDS`.

Its handler follows the Handler contract: it returns at once when the run already has its result,
and writes the result and the charge for it in one transaction keyed on the unique run_id. On the
first attempt it stops to be killed, either mid-run (no result yet) or right after the result was
committed but before the worker marked the job complete.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cohortbench.jobs import JobContext, Worker
from cohortbench.store.db import make_engine, session_factory
from cohortbench.store.models import Result, Run, Submission, utcnow

KIND = "evaluate_run"


def make_handler(sessions: sessionmaker[Session], markers: Path):  # type: ignore[no-untyped-def]
    def handle(ctx: JobContext) -> None:
        run_id, crash = int(ctx.payload["run_id"]), str(ctx.payload["crash"])
        with sessions() as session, session.begin():
            if session.scalar(select(Result.id).where(Result.run_id == run_id)) is not None:
                return  # an earlier attempt finished the work: nothing to redo
            run = session.get_one(Run, run_id)
            run.status, run.attempts, run.started_at = "running", ctx.attempt, utcnow()
        (markers / f"started-{ctx.attempt}").touch()
        if crash == "mid-run" and ctx.attempt == 1:
            time.sleep(120)  # killed here
        try:
            with sessions() as session, session.begin():
                run = session.get_one(Run, run_id)
                session.add(Result(run_id=run_id, result={"macro_f1": 0.75}, headline={"macro_f1": 0.75}))
                run.status, run.finished_at = "succeeded", utcnow()
                session.get_one(Submission, run.submission_id).compute_pflop += 1.0
        except IntegrityError:
            return  # a concurrent attempt wrote it first
        (markers / f"written-{ctx.attempt}").touch()
        if crash == "after-result" and ctx.attempt == 1:
            time.sleep(120)  # killed here, before the worker marks the job complete

    return handle


def main() -> None:
    url, markers, lease = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    engine = make_engine(url)
    sessions = session_factory(engine)
    worker = Worker(sessions, {KIND: make_handler(sessions, markers)}, lease_seconds=lease, poll_seconds=0.05)
    worker.run(max_jobs=1)
    engine.dispose()


if __name__ == "__main__":
    main()
