"""`cohortbench audit verify|export`: check and export the hash-chained audit trail.

The chain alone cannot show a cut-off or re-hashed tail; a head saved outside the database can.
Every `verify` and `export` prints the head (`--entries N --head HASH`) to keep; pass it back to
a later `verify`, on the database or on an exported file (checked offline).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cohortbench.cli.common import DEFAULT_DATA_DIR, DataDir, as_admin
from cohortbench.cli.tables import make_console

app = typer.Typer(help="The append-only, hash-chained audit trail.", no_args_is_help=True)
console = make_console()

Head = Annotated[
    str | None,
    typer.Option("--head", help="Saved head: the hash of entry --entries (from an earlier verify)"),
]
Entries = Annotated[
    int | None, typer.Option("--entries", min=0, help="Saved head: how many entries the chain had then")
]
File = Annotated[
    Path | None,
    typer.Option("--file", exists=True, dir_okay=False, help="Check this `audit export` file, offline"),
]


@app.command("verify")
def verify(
    head: Head = None,
    entries: Entries = None,
    file: File = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Recompute the chain; exit 1 if an entry was modified, deleted, inserted or reordered, or
    (given the saved head) the chain was cut off or rewritten since."""
    from cohortbench.store import audit as audit_log

    if file is not None:
        report = audit_log.verify_file(file, head=head, n_entries=entries)
    else:
        with as_admin(data_dir) as (_platform, session, _admin):
            report = audit_log.verify(session, head=head, n_entries=entries)
    found = f"{report.n_entries} entries, head {report.head_hash}"
    if not report.ok:
        console.print(
            f"[red]audit chain broken[/red]: {report.problem} at entry {report.first_bad_seq} ({found})",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    console.print(f"audit chain intact: {found}", soft_wrap=True)
    if report.after_head is not None:
        console.print(
            f"saved head (entry {entries}) matches; {report.after_head} entries appended since",
            soft_wrap=True,
        )
    console.print(
        f"keep outside the database: --entries {report.n_entries} --head {report.head_hash}", soft_wrap=True
    )


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Write every entry, one JSON object a line (`audit verify --file` checks it offline)."""
    from cohortbench.store import audit as audit_log

    with as_admin(data_dir) as (_platform, session, _admin):
        entries = audit_log.export(session)
    out.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in entries), encoding="utf-8")
    head = entries[-1]["hash"] if entries else audit_log.GENESIS_HASH
    console.print(f"wrote {len(entries)} entries to {out}, head {head}", soft_wrap=True)
