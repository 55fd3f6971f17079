"""Options shared by the command groups: the data directory, or a server URL and token.

Start-up time matters here: `cohortbench --help`, `results` and `leaderboard` must not import the
platform (SQLAlchemy, the cohorts, scikit-learn, pandas). Every heavy import sits inside the
function that needs it; `tests/cli/test_startup.py` checks what `cohortbench.cli.app` pulls in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cohortbench.errors import CohortbenchError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cohortbench.client import Client
    from cohortbench.service.platform import Platform
    from cohortbench.store.models import User

DataDir = Annotated[
    Path,
    typer.Option("--data-dir", envvar="COHORTBENCH_DATA_DIR", help="Data directory of a local deployment"),
]
Url = Annotated[str, typer.Option("--url", envvar="COHORTBENCH_URL", help="Server URL")]
Token = Annotated[str, typer.Option("--token", envvar="COHORTBENCH_TOKEN", help="API token")]
DEFAULT_DATA_DIR = Path(".cohortbench")
DEFAULT_URL = "http://127.0.0.1:8000"


def open_platform(data_dir: Path, **overrides: object) -> Platform:
    from cohortbench.service.platform import Platform
    from cohortbench.service.settings import Settings

    return Platform.open(Settings.from_env(data_dir=data_dir, **overrides))


@contextmanager
def as_admin(data_dir: Path) -> Iterator[tuple[Platform, Session, User]]:
    """Owner commands on a local deployment act as its administrator.

    The administrator made on first use is kept only if the command succeeds (one transaction),
    so its token is printed only then: a refused command leaves no administrator behind.
    """
    from cohortbench.service.local_admin import local_admin

    platform = open_platform(data_dir)
    try:
        with platform.session() as session:
            admin, token = local_admin(session)
            yield platform, session, admin
        if token:
            typer.echo(f"created the administrator; its API token (shown once): {token}", err=True)
    finally:
        platform.close()


def client(url: str, token: str) -> Client:
    if not token:
        raise CohortbenchError("an API token is needed: pass --token or set COHORTBENCH_TOKEN")
    from cohortbench.client import Client

    return Client(url, token)


def env_default(name: str, default: str) -> str:
    return os.environ.get(name, default)
