"""A worker whose sandbox never returns, for kill -9 tests: `python hanging_worker.py DATA_DIR DB_URL
LEASE_SECONDS [MAX_JOBS]`.

It runs the platform's real job kinds (the `evaluate` handler and its give-up hook, as `cohortbench
worker` does); only `SandboxSession` is swapped for one whose run blocks, so the worker is always
killed mid-run, at the same point, and the test does not depend on bubblewrap or on timing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from cohortbench.service import Platform, Settings, evaluation
from cohortbench.service.worker import make_worker


class HangingSession:
    """Stands in for SandboxSession: a phase that never ends (until the worker is killed)."""

    def __init__(self, bundle_dir: Path, workdir: Path, **_options: Any) -> None:
        self.bundle_dir = bundle_dir

    def __enter__(self) -> HangingSession:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, request: Any, *, last: bool = False) -> Any:
        time.sleep(600)
        raise AssertionError("the worker should have been killed by now")


def main() -> None:
    data_dir, url, lease = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    max_jobs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    evaluation.SandboxSession = HangingSession  # type: ignore[assignment, misc]
    settings = Settings(data_dir=data_dir, database_url=url, embedded_worker=False)
    platform = Platform.open(settings)
    worker = make_worker(platform, lease_seconds=lease, poll_seconds=0.05)
    worker.run(max_jobs=max_jobs)
    platform.close()


if __name__ == "__main__":
    main()
