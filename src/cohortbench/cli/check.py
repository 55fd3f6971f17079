"""`cohortbench check BUNDLE --workspace NAME`: the contributor's debugging loop, on fake data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from cohortbench.cli.common import DEFAULT_DATA_DIR, DataDir, as_admin, client
from cohortbench.cli.tables import make_console
from cohortbench.errors import ValidationError

if TYPE_CHECKING:
    from cohortbench.privacy.twin import SchemaTwin
    from cohortbench.sandbox.check import CheckReport
    from cohortbench.sandbox.runs import RunOutcome


def check(
    bundle: Annotated[Path, typer.Argument(help="Bundle folder or .zip")],
    workspace: Annotated[
        str,
        typer.Option(
            "--workspace",
            help="A workspace of a server (with --url/--token), of the local deployment (--data-dir), "
            "or a reference cohort: dili, neuromuscular",
        ),
    ] = "",
    url: Annotated[
        str,
        typer.Option(
            "--url", envvar="COHORTBENCH_URL", help="Server to fetch the workspace's schema twin from"
        ),
    ] = "",
    token: Annotated[
        str, typer.Option("--token", envvar="COHORTBENCH_TOKEN", help="API token (with --url)")
    ] = "",
    schema: Annotated[Path | None, typer.Option("--schema", help="Schema twin JSON of a workspace")] = None,
    unsafe_no_sandbox: Annotated[
        bool, typer.Option("--unsafe-no-sandbox", help="Development only: run WITHOUT the sandbox")
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Run both phases of BUNDLE in the sandbox on a synthetic twin of the workspace (uses no quota)."""
    from cohortbench.privacy.twin import SchemaTwin
    from cohortbench.sandbox.check import check_bundle

    if schema is not None:
        twin = SchemaTwin.from_dict(json.loads(schema.read_text()))
    elif url:
        if not workspace:
            raise ValidationError("check --url needs --workspace NAME (a workspace of that server)")
        twin = client(url, token).schema_twin(workspace)
    else:
        twin = _twin(workspace, data_dir)
    report = check_bundle(bundle, twin, unsafe_no_sandbox=unsafe_no_sandbox)
    console = make_console()
    _summary(console, report)
    failed = [o for o in (report.baseline, report.finetune) if not o.ok]
    if failed:
        raise typer.Exit(1)


def _local_workspaces(data_dir: Path) -> list[str]:
    """Names of the local deployment's workspaces; none when there is no deployment at `data_dir`."""
    from cohortbench.service import workspaces
    from cohortbench.service.settings import Settings

    settings = Settings.from_env(data_dir=data_dir)
    if not settings.database_url and not (data_dir / "cohortbench.db").exists():
        return []  # no deployment here: do not create one (nor its administrator) just to look
    with as_admin(data_dir) as (_platform, session, admin):
        return [c.name for c in workspaces.list_cards(session, actor=admin)]


def _twin(workspace: str, data_dir: Path) -> SchemaTwin:
    """A stored workspace's twin (from its cohort), else a reference cohort's (from its spec)."""
    from cohortbench.cohorts import SPECS
    from cohortbench.privacy.twin import SchemaTwin

    local = _local_workspaces(data_dir)
    if workspace in local:
        from cohortbench.service import owner

        with as_admin(data_dir) as (platform, session, admin):
            return owner.schema_twin(platform, session, actor=admin, name=workspace)
    if workspace in SPECS:
        return SchemaTwin.from_spec(cast(Any, SPECS[workspace]))
    where = f"workspaces of {data_dir}: {', '.join(local)}" if local else f"no deployment at {data_dir}"
    choices = (
        f"{where}; reference cohorts: {', '.join(sorted(SPECS))}; "
        "a server's workspace with --url URL --token TOKEN; or --schema FILE"
    )
    if not workspace:
        raise ValidationError(f"check needs --workspace NAME (or --schema FILE). Choices: {choices}")
    raise ValidationError(f"no workspace named {workspace!r}. Choices: {choices}")


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
