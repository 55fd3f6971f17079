"""Run `cohortbench` commands in-process with typer's CliRunner, reporting errors as `main` does.

A subprocess per command costs a fresh interpreter and its imports (seconds each); in-process the
test exercises the same Typer app. `tests/cli/test_owner_cli.py` keeps one subprocess smoke test of
the installed entry point.
"""

from __future__ import annotations

from dataclasses import dataclass

from typer.testing import CliRunner

from cohortbench.cli.app import EXPECTED_ERRORS, app, error_line


@dataclass(frozen=True)
class Done:
    """What a finished command left: the fields of `subprocess.CompletedProcess` the tests read."""

    returncode: int
    stdout: str
    stderr: str


def invoke(*args: str, env: dict[str, str] | None = None, check: bool = True) -> Done:
    """Run one command; an expected error becomes exit status 1 and `error: ...` on stderr."""
    result = CliRunner().invoke(app, list(args), env=env)
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        if not isinstance(error, EXPECTED_ERRORS):
            raise error
        done = Done(1, result.stdout, f"{error_line(error)}\n")
    else:
        done = Done(result.exit_code, result.stdout, result.stderr)
    if check:
        assert done.returncode == 0, done.stderr
    return done
