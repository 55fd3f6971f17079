"""The order of bubblewrap's mounts: later mounts cover earlier ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohortbench.sandbox import bwrap
from cohortbench.sandbox.bwrap import Mounts, filesystem_args


def test_runtime_under_host_tmp_is_bound_after_the_private_tmp(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A checkout under /tmp (a CI clone) must be mounted over the private tmpfs, not hidden by it."""
    venv = Path("/tmp/some-clone/.venv")
    monkeypatch.setattr(bwrap, "runtime_dirs", lambda: [venv])
    args = filesystem_args(
        Mounts(tmp_path / "in", tmp_path / "bundle", tmp_path / "out"), tmp_bytes=1 << 20, gpu=False
    )
    tmpfs_at = next(i for i, a in enumerate(args) if a == "--tmpfs" and args[i + 1] == "/tmp")
    bind_at = next(i for i, a in enumerate(args) if a == "--ro-bind" and args[i + 2] == str(venv))
    assert tmpfs_at < bind_at
    job_at = args.index(f"{bwrap.JOB_ROOT}/input")
    assert tmpfs_at < job_at


def test_the_environment_is_cleared_and_idle_threads_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COHORTBENCH_DATABASE_URL", "postgresql://secret")
    args = bwrap.environment_args(3)
    assert args[0] == "--clearenv"
    env = {args[i + 1]: args[i + 2] for i, a in enumerate(args) if a == "--setenv"}
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "3"
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"
    assert not any("secret" in v for v in env.values())
