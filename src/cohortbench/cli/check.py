"""`cohortbench check BUNDLE --workspace NAME`: the contributor's debugging loop, on fake data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from cohortbench.cli.tables import make_console

if TYPE_CHECKING:
    from cohortbench.sandbox.check import CheckReport
    from cohortbench.sandbox.runs import RunOutcome


def check(
    bundle: Annotated[Path, typer.Argument(help="Bundle folder or .zip")],
    workspace: Annotated[str, typer.Option("--workspace", help="dili or neuromuscular")] = "dili",
    schema: Annotated[Path | None, typer.Option("--schema", help="Schema twin JSON of a workspace")] = None,
    unsafe_no_sandbox: Annotated[
        bool, typer.Option("--unsafe-no-sandbox", help="Development only: run WITHOUT the sandbox")
    ] = False,
) -> None:
    """Run both phases of BUNDLE in the sandbox on a synthetic twin of the workspace (uses no quota)."""
    from cohortbench.cohorts import get_spec
    from cohortbench.privacy.twin import SchemaTwin
    from cohortbench.sandbox.check import check_bundle

    twin = (
        SchemaTwin.from_dict(json.loads(schema.read_text()))
        if schema
        else SchemaTwin.from_spec(cast(Any, get_spec(workspace)))
    )
    report = check_bundle(bundle, twin, unsafe_no_sandbox=unsafe_no_sandbox)
    console = make_console()
    _summary(console, report)
    failed = [o for o in (report.baseline, report.finetune) if not o.ok]
    if failed:
        raise typer.Exit(1)


def _summary(console: Console, report: CheckReport) -> None:
    m = report.manifest
    console.print(
        f"[bold]{m.name}[/] ({m.framework}) on fake data: {report.n_train} train, {report.n_holdout} holdout"
    )
    table = Table("phase", "status", "predictions", "losses", "CPU s", "wall s", "peak MiB", "FLOP")
    for phase, o in (("baseline", report.baseline), ("finetune", report.finetune)):
        shape = "x".join(map(str, o.predictions.shape)) if o.predictions is not None else "-"
        losses = ", ".join(f"{v:.4g}" for v in o.losses[:5]) + (" ..." if len(o.losses) > 5 else "")
        r = o.resources
        flop = f"{r.flop:.3g} ({r.flop_method})"
        table.add_row(
            phase,
            o.status,
            shape,
            losses or "-",
            f"{r.cpu_seconds:.2f}",
            f"{r.wall_seconds:.2f}",
            f"{r.peak_memory_bytes / 2**20:.0f}",
            flop,
        )
    console.print(table)
    for phase, o in (("baseline", report.baseline), ("finetune", report.finetune)):
        _logs(console, phase, o)


def _logs(console: Console, phase: str, outcome: RunOutcome) -> None:
    """The data is fake, so the owner-only text is shown too."""
    if outcome.ok:
        console.print(f"[green]{phase}: succeeded[/]")
    if outcome.public_error is not None:
        e = outcome.public_error
        frames = ", ".join(f"{f.file}:{f.line}:{f.function}" for f in e.frames) or "-"
        console.print(f"[red]{phase}: {e.code}[/] {e.exc_type or ''} frames: {frames}")
    log = outcome.owner_log
    for title, text in (
        ("stdout", log.stdout),
        ("stderr", log.stderr),
        ("traceback", log.traceback or log.message),
    ):
        if text.strip():
            console.rule(f"{phase} {title}")
            console.print(text, markup=False, highlight=False)
