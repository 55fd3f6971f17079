"""run_in_sandbox: one phase of a bundle in a session of its own (check_sandbox: the fail-closed probe)."""

from __future__ import annotations

from pathlib import Path

from cohortbench.sandbox.bwrap import check_sandbox
from cohortbench.sandbox.runs import RunOutcome, RunRequest
from cohortbench.sandbox.session import SandboxSession

__all__ = ["check_sandbox", "run_in_sandbox"]


def run_in_sandbox(request: RunRequest, workdir: Path, *, unsafe_no_sandbox: bool = False) -> RunOutcome:
    """Run one phase of a bundle in the sandbox and return its validated outcome.

    A session of one phase (see session.SandboxSession, which serves both phases of a submission in
    one process): `workdir` must not exist yet or be empty; it keeps input/, bundle/ and output/
    (fine-tuned weights stay there, in the workspace). Raises SandboxUnavailableError if bubblewrap
    is missing or unusable, unless `unsafe_no_sandbox` (development only: contributor code then
    runs with the launcher's own rights, and a warning is logged).
    """
    with SandboxSession(request.bundle_dir, workdir, unsafe_no_sandbox=unsafe_no_sandbox) as box:
        return box.run(request, last=True)
