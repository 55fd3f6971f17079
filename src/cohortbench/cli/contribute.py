"""Contributor commands against a server: `submit`, `results`, `leaderboard`.

These import neither pandas nor the platform: they start in well under a second.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cohortbench.cli.common import DEFAULT_URL, Token, Url, client
from cohortbench.cli.tables import leaderboard_table, make_console

if TYPE_CHECKING:
    from cohortbench.client import Client, SubmissionResult

console = make_console()


def submit(
    workspace: Annotated[str, typer.Argument(help="Workspace name")],
    bundle: Annotated[Path, typer.Argument(help="Bundle folder or .zip")],
    plan: Annotated[str, typer.Option(help="JSON plan overrides, e.g. '{\"epochs\": 30}'")] = "{}",
    wait: Annotated[bool, typer.Option(help="Wait for the runs and print the results")] = True,
    check: Annotated[
        bool,
        typer.Option(
            help="First run the bundle here on the workspace's schema twin (no quota); submit only if it passes"
        ),
    ] = True,
    url: Url = DEFAULT_URL,
    token: Token = "",
) -> None:
    """Submit a bundle: checked here on the server's schema twin first (unless --no-check), then
    validated by the server before the quota is charged."""
    cb = client(url, token)
    if check:
        _precheck(cb, workspace, bundle)
    submission = cb.submit(workspace, bundle, plan=json.loads(plan))
    console.print(f"submission {submission.id} accepted ({submission.framework}, {submission.name})")
    if wait:
        submission = cb.wait(submission)
        print_result(cb.results(submission))
        if submission.status == "failed":
            raise typer.Exit(1)


def _precheck(cb: Client, workspace: str, bundle: Path) -> None:
    """Both phases on fake data with the workspace's exact columns and classes: a wrong shape, a missing
    column or a class count mismatch shows here in full, before a submission is used."""
    console.print(
        f"checking {bundle} on the schema twin of {workspace} (no quota used; --no-check skips this)"
    )
    report = cb.check(bundle, workspace)
    if not report.ok:
        for problem in report.problems():
            console.print(f"[red]{escape(problem)}[/]", soft_wrap=True)
        console.print(
            f"not submitted: fix the bundle (`cohortbench check {bundle} --workspace {workspace} --url ...` shows the logs)"
        )
        raise typer.Exit(1)
    console.print("check passed on the schema twin")


def results(
    submission: Annotated[int, typer.Argument(help="Submission id")],
    url: Url = DEFAULT_URL,
    token: Token = "",
) -> None:
    """Your submission's status, metrics with 95% intervals, and its error (code, exception type, detail)."""
    print_result(client(url, token).results(submission))


def print_result(res: SubmissionResult) -> None:
    """Status; for a failure its code, exception type and detail; then the metrics table, if any."""
    sub = res.submission
    console.print(f"submission {sub.id}: {sub.status}")
    text = sub.error_text()
    if text:
        console.print(f"[red]error:[/] {escape(text)}", soft_wrap=True)
    for phase, run_text in res.run_errors():
        if run_text != text:
            console.print(f"[red]{phase} error:[/] {escape(run_text)}", soft_wrap=True)
    rows = res.metric_rows()
    if not rows:
        if sub.status in ("succeeded", "failed", "cancelled"):
            console.print("no scores: no run of this submission was scored")
        else:
            console.print("no scores yet")
        return
    table = Table("phase", "metric", "value", "95% CI")
    for row in rows:
        value = "—" if row["value"] is None else f"{row['value']:.4g}"
        ci = "—" if row["low"] is None or row["high"] is None else f"{row['low']:.4g}–{row['high']:.4g}"
        table.add_row(row["phase"], row["metric"], value, ci)
    console.print(table)


def leaderboard(
    workspace: Annotated[str, typer.Argument(help="Workspace name")],
    version: Annotated[int, typer.Option(help="Only submissions scored on this cohort version")] = 0,
    url: Url = DEFAULT_URL,
    token: Token = "",
) -> None:
    """The leaderboard as you may see it (your own rows until the owner releases it)."""
    query = f"?version={version}" if version else ""
    body = client(url, token)._get(f"/api/v1/workspaces/{workspace}/leaderboard{query}")
    console.print(leaderboard_table(body))
