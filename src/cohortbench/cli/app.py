"""Registers every command group and turns expected errors into one-line messages."""

from __future__ import annotations

import sys

import typer

from cohortbench.cli import (
    audit,
    check,
    cohort,
    contribute,
    demo,
    export,
    report,
    rerun,
    serve,
    submissions,
    workspace,
)
from cohortbench.errors import CohortbenchError

app = typer.Typer(
    name="cohortbench",
    help="Evaluate and fine-tune models on private clinical cohorts: the model comes to the data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(cohort.app, name="cohort")
app.add_typer(workspace.app, name="workspace")
app.add_typer(workspace.user_app, name="user")
app.add_typer(audit.app, name="audit")
app.add_typer(submissions.app, name="submissions")
app.add_typer(export.app, name="export")
app.command("submit")(contribute.submit)
app.command("results")(contribute.results)
app.command("leaderboard")(contribute.leaderboard)
app.command("serve")(serve.serve)
app.command("worker")(serve.worker)
app.command("report")(report.report)
app.command("demo")(demo.demo)
app.command("check")(check.check)
app.command("rerun")(rerun.rerun)
workspace.app.command("holdup")(rerun.holdup)


#: what `main` reports as one line `error: ...` (exit status 1) instead of a traceback
EXPECTED_ERRORS: tuple[type[Exception], ...] = (CohortbenchError, OSError, ValueError)


def error_line(exc: Exception) -> str:
    """The one line `main` prints for an expected failure."""
    return f"error: {exc.message if isinstance(exc, CohortbenchError) else exc}"


def main() -> None:
    """Console entry point: expected failures print `error: ...` and exit 1, without a traceback."""
    try:
        app()
    except EXPECTED_ERRORS as exc:
        print(error_line(exc), file=sys.stderr)
        sys.exit(1)
