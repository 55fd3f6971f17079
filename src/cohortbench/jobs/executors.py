"""Executors: where a submission's phases run. The worker's handler asks one for a session of a
bundle and runs the phases through it; scoring stays with the handler (holdout labels never go
to an executor: a RunRequest has no field for them).

LocalExecutor (the default) runs them in a sandbox on this machine, in a warm one when its pool
has one that fits; jobs.ray_executor.RayExecutor sends each phase to a node of a Ray cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from cohortbench.sandbox import RunOutcome, RunRequest, SandboxSession, WarmPool
from cohortbench.workspaces import Resources

__all__ = ["Executor", "LocalExecutor", "PhaseRunner"]


class PhaseRunner(Protocol):
    """Runs the phases of one bundle in order (SandboxSession is one)."""

    bundle_dir: Path

    def run(self, request: RunRequest, *, last: bool = False) -> RunOutcome: ...


class Executor(Protocol):
    """Gives a PhaseRunner per submission; close() ends what it keeps (warm sandboxes, a connection)."""

    def session(
        self,
        bundle_dir: Path,
        workdir: Path,
        *,
        unsafe_no_sandbox: bool = False,
        cancelled: Callable[[], bool] | None = None,
        resources: Resources | None = None,
    ) -> AbstractContextManager[PhaseRunner]:
        """A runner for one submission's phases; `resources`: the workspace's, per job."""
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """Phases run in a sandbox on this machine; with `warm` > 0, in a warm sandbox of a pool of that
    size when one fits (sandbox.warm.WarmPool), else started cold as before. `root` is where the
    pool's folders go (the worker's scratch, sandbox.scratch; a temporary folder if None)."""

    def __init__(self, warm: int = 0, *, unsafe_no_sandbox: bool = False, root: Path | None = None) -> None:
        self.pool = WarmPool(warm, root=root, unsafe_no_sandbox=unsafe_no_sandbox) if warm > 0 else None

    def session(
        self,
        bundle_dir: Path,
        workdir: Path,
        *,
        unsafe_no_sandbox: bool = False,
        cancelled: Callable[[], bool] | None = None,
        resources: Resources | None = None,
    ) -> SandboxSession:
        """A sandbox session (the limits come with each request; `resources` need nothing more here)."""
        return SandboxSession(
            bundle_dir, workdir, unsafe_no_sandbox=unsafe_no_sandbox, cancelled=cancelled, pool=self.pool
        )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
