"""Contributor commands against a server: `submit`, `results`, `leaderboard`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cohortbench.cli.common import DEFAULT_URL, Token, Url, client
from cohortbench.cli.tables import leaderboard_table, make_console

console = make_console()


def submit(
    workspace: Annotated[str, typer.Argument(help="Workspace name")],
    bundle: Annotated[Path, typer.Argument(help="Bundle folder or .zip")],
    plan: Annotated[str, typer.Option(help="JSON plan overrides, e.g. '{\"epochs\": 30}'")] = "{}",
    wait: Annotated[bool, typer.Option(help="Wait for the runs and print the results")] = True,
    url: Url = DEFAULT_URL,
    token: Token = "",
) -> None:
    """Submit a bundle (validated before the quota is charged)."""
    cb = client(url, token)
    submission = cb.submit(workspace, bundle, plan=json.loads(plan))
    console.print(f"submission {submission.id} accepted ({submission.framework}, {submission.name})")
    if wait:
        submission = cb.wait(submission)
        console.print(f"submission {submission.id}: {submission.status}")
        console.print(cb.results(submission).metrics().to_string(index=False))


def results(
    submission: Annotated[int, typer.Argument(help="Submission id")],
    url: Url = DEFAULT_URL,
    token: Token = "",
) -> None:
    """Your submission's status, metrics with 95% intervals, and structured errors."""
    res = client(url, token).results(submission)
    console.print(f"submission {submission}: {res.submission.status}")
    if res.submission.error:
        console.print_json(json.dumps(res.submission.error))
    console.print(res.metrics().to_string(index=False))


def leaderboard(
    workspace: Annotated[str, typer.Argument(help="Workspace name")],
    url: Url = DEFAULT_URL,
    token: Token = "",
) -> None:
    """The leaderboard as you may see it (your own rows until the owner releases it)."""
    body = client(url, token)._get(f"/api/v1/workspaces/{workspace}/leaderboard")
    console.print(leaderboard_table(body))
