"""Run the demo: create the two workspaces, let each contributor submit through the client, print the boards."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import uvicorn

from cohortbench.api import create_app
from cohortbench.client import Client
from cohortbench.cohorts import generate, get_spec
from cohortbench.demo.growth import grow_and_rerun
from cohortbench.demo.internal_team_model import build_internal_bundle
from cohortbench.demo.scenario import WORKSPACES, DemoWorkspace
from cohortbench.errors import CohortbenchError
from cohortbench.service import Platform, Settings, users, workspaces
from cohortbench.service.local_admin import local_admin
from cohortbench.terminal import leaderboard_table, make_console

console = make_console()


@dataclass(frozen=True)
class DemoOptions:
    data_dir: Path = Path(".cohortbench/demo")
    examples_dir: Path = Path("examples")
    host: str = "127.0.0.1"
    port: int = 8000
    serve: bool = True
    bootstrap_resamples: int = 2000
    importance_repeats: int = 3


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _start_server(platform: Platform, host: str, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(uvicorn.Config(create_app(platform), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="cohortbench-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise CohortbenchError(f"the server did not start on {host}:{port} (is the port in use?)")
        time.sleep(0.05)
    return server, thread


def _setup(platform: Platform, options: DemoOptions) -> dict[str, str]:
    """Users, the two workspaces, their members and the owner's own bundle; returns each user's token."""
    tokens: dict[str, str] = {}
    with platform.session() as session:
        owner, token = local_admin(session)
        tokens["owner"] = token or ""
        for ws in WORKSPACES:
            for c in ws.contributors:
                if c.user not in tokens:
                    _u, tokens[c.user] = users.create_user(session, name=c.user, display_name=c.display_name)
            spec = get_spec(ws.cohort)
            workspace = workspaces.create_workspace(
                platform,
                session,
                actor=owner,
                name=ws.cohort,
                title=ws.title,
                description=ws.description,
                frame=generate(ws.cohort),
                label_column=spec.label_column,
                id_column=spec.id_column,
                critical_class=spec.critical_class,
                classes=spec.classes,
                holdout_fraction=spec.holdout_size / spec.n_records,
                rules=ws.rules,
                feature_groups={k: list(v) for k, v in spec.feature_groups.items()},
            )
            notes = workspaces.notes_of(workspace)
            workspaces.write_notes(workspace, replace(notes, class_labels=ws.class_labels))
            for c in ws.contributors:
                workspaces.invite(session, actor=owner, name=ws.cohort, user_name=c.user)
            if any(c.bundle == "internal" for c in ws.contributors):
                # the owner's team trains on the workspace's own train split, never on a holdout row
                version = workspaces.latest_version(session, workspace)
                train, _holdout = workspaces.load_cohort(platform, version, workspace)
                build_internal_bundle(train, _internal_dir(ws, options))
    return tokens


def _internal_dir(ws: DemoWorkspace, options: DemoOptions) -> Path:
    return options.data_dir / f"internal-bundle-{ws.cohort}"


def _bundle(ws: DemoWorkspace, bundle: str, options: DemoOptions) -> Path:
    if bundle == "internal":
        return _internal_dir(ws, options)
    path = options.examples_dir / bundle
    if not (path / "cohortbench.toml").exists():
        raise CohortbenchError(f"example bundle {path} not found (run the demo from the repository root)")
    return path


def _submit_all(url: str, tokens: dict[str, str], options: DemoOptions) -> None:
    pending = []
    for ws in WORKSPACES:
        for c in ws.contributors:
            client = Client(url, tokens[c.user])
            submission = client.submit(ws.cohort, _bundle(ws, c.bundle, options), plan=dict(c.plan))
            console.print(f"  {c.display_name} submitted {submission.name} to {ws.cohort} (#{submission.id})")
            pending.append((client, submission))
    for client, submission in pending:
        done = client.wait(submission, poll=0.5)
        if done.status != "succeeded":
            console.print(f"  [yellow]submission {done.id} {done.status}: {done.error}[/yellow]")


def run_demo(options: DemoOptions) -> dict[str, Any]:
    """Run the whole demo; returns the two leaderboards (owner view) and the sign-in tokens."""
    shutil.rmtree(options.data_dir, ignore_errors=True)
    settings = Settings(
        data_dir=options.data_dir,
        bootstrap_resamples=options.bootstrap_resamples,
        importance_repeats=options.importance_repeats,
        embedded_worker=True,
    )
    platform = Platform.open(settings)
    port = options.port if options.serve else _free_port(options.host)
    console.rule("cohortbench demo")
    console.print("creating the DILI and neuromuscular workspaces from the reference cohorts")
    tokens = _setup(platform, options)
    server, thread = _start_server(platform, options.host, port)
    url = f"http://{options.host}:{port}"
    console.print(f"contributors submit through the API at {url}; the worker runs baseline and finetune")
    _submit_all(url, tokens, options)
    owner = Client(url, tokens["owner"])
    boards = {}
    for ws in WORKSPACES:
        owner._post(f"/api/v1/workspaces/{ws.cohort}/publish")
        boards[ws.cohort] = owner._get(f"/api/v1/workspaces/{ws.cohort}/leaderboard")
        console.print(leaderboard_table(boards[ws.cohort], title=ws.title))
    summary = {"url": url, "tokens": tokens, "leaderboards": boards, "growth": grow_and_rerun(platform)}
    (options.data_dir / "demo-summary.json").write_text(json.dumps(summary, indent=2))
    if options.serve:
        console.print(f"\nweb pages: [bold]{url}[/bold]  (sign in with a token below; Ctrl-C to stop)")
        for user, token in tokens.items():
            console.print(f"  {user:<15} {token}")
        with contextlib.suppress(KeyboardInterrupt):
            thread.join()
    server.should_exit = True
    thread.join(timeout=10)
    platform.close()
    return summary
