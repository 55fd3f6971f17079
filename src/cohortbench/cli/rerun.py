"""`cohortbench rerun` and `cohortbench workspace holdup`: re-evaluation on a later cohort version (owners)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cohortbench.cli.common import DEFAULT_DATA_DIR, DataDir, as_admin
from cohortbench.cli.tables import make_console
from cohortbench.errors import ValidationError
from cohortbench.terminal import holdup_table

if TYPE_CHECKING:
    pass

console = make_console()


def parse_ids(text: str) -> list[int] | None:
    """`1,2,5` as ids; empty: None (every succeeded submission)."""
    if not text.strip():
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValidationError(
            f"--submissions expects ids separated by commas, e.g. 1,2; got {text!r}"
        ) from None


def rerun(
    name: Annotated[str, typer.Argument(help="Workspace name")],
    version: Annotated[int, typer.Option("--version", help="Cohort version to re-run on")],
    submissions: Annotated[
        str, typer.Option(help="Submission ids, e.g. 1,2 (default: every succeeded one)")
    ] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Re-run stored bundles on another cohort version (owner; charged to the owner, not the contributors)."""
    from cohortbench.service import rerun as service

    with as_admin(data_dir) as (_platform, session, admin):
        made = service.rerun(
            session, actor=admin, name=name, version=version, submission_ids=parse_ids(submissions)
        )
        lines = [f"  #{m.rerun_of} -> #{m.id} {m.name}" for m in made]
    console.print(
        f"queued {len(lines)} re-run(s) on cohort version {version} of {name} (a worker runs them):"
    )
    for line in lines:
        console.print(line)


def holdup(
    name: Annotated[str, typer.Argument(help="Workspace name")], data_dir: DataDir = DEFAULT_DATA_DIR
) -> None:
    """Each model's score per cohort version, with a paired test for a drop where the holdout is fixed."""
    from cohortbench.service import holdup as service

    with as_admin(data_dir) as (platform, session, admin):
        rows = service.holds_up(platform, session, actor=admin, name=name)
    console.print(holdup_table(rows))
