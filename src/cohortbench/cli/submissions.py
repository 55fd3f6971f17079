"""`cohortbench submissions list [--workspace NAME]`: the owner's view of a local deployment."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cohortbench.cli.common import DEFAULT_DATA_DIR, DataDir, as_admin
from cohortbench.cli.tables import make_console

app = typer.Typer(help="Submissions of a local deployment (owners).", no_args_is_help=True)
console = make_console()


@app.command("list")
def list_submissions(
    workspace: Annotated[str, typer.Option("--workspace", help="Only this workspace")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Every submission (of one workspace, or of all): id, contributor, model, status, compute, error."""
    from cohortbench.client import format_error
    from cohortbench.service import release, workspaces

    with as_admin(data_dir) as (platform, session, admin):
        names = [workspace] if workspace else [c.name for c in workspaces.list_cards(session, actor=admin)]
        rows = [
            row
            for name in names
            for row in release.summaries(
                session, actor=admin, workspace_name=name, grid_g_per_kwh=platform.settings.grid_g_per_kwh
            )
        ]
    table = Table("id", "workspace", "contributor", "model", "status", "created", "compute (PF)", "error")
    for r in rows:
        error = format_error(r.error.model_dump()) if r.error else ""
        table.add_row(
            str(r.id),
            r.workspace,
            r.contributor,
            f"{r.name} ({r.framework})",
            r.status,
            r.created_at[:16],
            f"{r.compute_pflop:.3g}",
            escape(error or ""),
        )
    console.print(table)
    console.print(f"{len(rows)} submission(s)")
