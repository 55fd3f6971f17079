"""`cohortbench audit verify|export`: check and export the hash-chained audit trail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cohortbench.cli.common import DEFAULT_DATA_DIR, DataDir, as_admin
from cohortbench.cli.tables import make_console
from cohortbench.store import audit as audit_log

app = typer.Typer(help="The append-only, hash-chained audit trail.", no_args_is_help=True)
console = make_console()


@app.command("verify")
def verify(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Recompute the chain; exit 1 if an entry was modified, deleted, inserted or reordered."""
    with as_admin(data_dir) as (_platform, session, _admin):
        report = audit_log.verify(session)
    if report.ok:
        console.print(f"audit chain intact: {report.n_entries} entries, head {report.head_hash}")
        return
    console.print(f"[red]audit chain broken[/red]: {report.problem} at entry {report.first_bad_seq}")
    raise typer.Exit(1)


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Write every entry, one JSON object a line."""
    with as_admin(data_dir) as (_platform, session, _admin):
        entries = audit_log.export(session)
    out.write_text("".join(json.dumps(e, sort_keys=True, default=str) + "\n" for e in entries))
    console.print(f"wrote {len(entries)} entries to {out}")
