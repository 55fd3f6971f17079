"""Shared fixtures: a reproducible seed for every random test, and fresh databases on SQLite and a
throwaway PostgreSQL server (started once per test session, one new database per test).

Under pytest-xdist (`make test` runs `-n auto`) each worker has its own session: its own server and
migrated templates. Nothing is written into the repository: hypothesis keeps its example database
and tests their artifacts (tests/artifacts.py) in temporary folders."""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cohortbench.bundles.adapters.sklearn_model import skops_io
from cohortbench.store.db import make_engine, migrate, session_factory
from cohortbench.store.models import CohortVersion, Run, Submission, User, Workspace
from tests.artifacts import ARTIFACTS

PG_TEMPLATE_DB = "cb_template"
_db_counter = itertools.count()

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "cohortbench-hypothesis")  # not ./.hypothesis
# skops as the sandboxes import it (without its default estimator list, which imports all of
# scikit-learn): every later `import skops.io` of a test gets this module, 4 s sooner per process
skops_io()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a slow test first, in their own order: under xdist (--dist loadfile) a worker then
    does not pick up the demo's one long run near the end while the other worker sits idle."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if ARTIFACTS.exists():
        terminalreporter.write_line(f"test artifacts (charts, screenshots, report): {ARTIFACTS}")


@pytest.fixture
def global_random_seed() -> int:
    """Seed for random tests; set COHORTBENCH_TEST_SEED to re-run over other seeds."""
    return int(os.environ.get("COHORTBENCH_TEST_SEED", "42"))


def _pg_bin_dir() -> Path:
    """PostgreSQL's binaries. Missing, the PostgreSQL half of the store tests is skipped with the
    reason on a developer's machine (`-ra` lists it) and fails the run in CI, where it must run."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        reason = (
            "PostgreSQL is not installed, so the store tests cannot run against it: "
            "run `apt-get install postgresql` (or `make install`, which does it)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return Path(found[-1]).parent


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the `postgres` system user when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_execute(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port; yields the libpq URL of its server
    (append a database name). Durability is off (fsync etc.): it is deleted at the end anyway."""
    bin_dir = _pg_bin_dir()
    shm = Path("/dev/shm")  # a RAM disk when there is one: creating a database per test is then cheap
    root = Path(tempfile.mkdtemp(prefix="cohortbench-pg-", dir=shm if os.access(shm, os.W_OK) else None))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, log, port = root / "data", root / "postgres.log", _free_port()
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
    subprocess.run(_as_postgres([*initdb, "--no-sync", "--no-instructions"]), check=True, capture_output=True)
    settings = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c listen_addresses=127.0.0.1"
    options = f"-p {port} -k {root} {settings}"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log)]
    started = subprocess.run(
        _as_postgres([*pg_ctl, "-w", "-t", "30", "-o", options, "start"]), capture_output=True
    )
    if started.returncode != 0:
        pytest.fail(f"PostgreSQL did not start:\n{log.read_text(errors='replace')}", pytrace=False)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([*pg_ctl, "-m", "immediate", "stop"]), capture_output=True, timeout=30)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def _postgres_template(postgres_server: str) -> str:
    """A migrated database that each test's database is copied from (faster than migrating)."""
    _pg_execute(f"{postgres_server}/postgres", f"CREATE DATABASE {PG_TEMPLATE_DB}")
    engine = make_engine(
        f"{postgres_server.replace('postgresql://', 'postgresql+psycopg://')}/{PG_TEMPLATE_DB}"
    )
    migrate(engine)
    engine.dispose()
    return PG_TEMPLATE_DB


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "cohortbench.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


def _fresh_postgres(request: pytest.FixtureRequest, *, migrated: bool) -> Iterator[str]:
    server = request.getfixturevalue("postgres_server")
    name = f"cb_test_{os.getpid()}_{next(_db_counter)}"
    template = f" TEMPLATE {request.getfixturevalue('_postgres_template')}" if migrated else ""
    _pg_execute(f"{server}/postgres", f"CREATE DATABASE {name}{template}")
    yield f"{server.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    with contextlib.suppress(Exception):
        _pg_execute(f"{server}/postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _fresh_sqlite(request: pytest.FixtureRequest, tmp_path: Path, *, migrated: bool) -> str:
    path = tmp_path / "db" / "cohortbench.db"
    path.parent.mkdir()
    if migrated:
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> str:
    """Run a test once on SQLite and once on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def db_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of each backend, for this test only."""
    if db_backend == "sqlite":
        yield _fresh_sqlite(request, tmp_path, migrated=True)
    else:
        yield from _fresh_postgres(request, migrated=True)


@pytest.fixture
def empty_db_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each backend with no tables at all (for migration tests)."""
    if db_backend == "sqlite":
        yield _fresh_sqlite(request, tmp_path, migrated=False)
    else:
        yield from _fresh_postgres(request, migrated=False)


@pytest.fixture
def sqlite_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database (the embedded default) when one backend is enough."""
    return _fresh_sqlite(request, tmp_path, migrated=True)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on `db_url`, disposed after the test."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory on the test's fresh database (both backends)."""
    return session_factory(engine)


def add_run(session: Session, *, name: str = "m", phase: str = "baseline") -> Run:
    """A user, workspace, cohort version, submission and one run of it (flushed, not committed)."""
    owner = User(name=f"owner-{name}")
    session.add(owner)
    session.flush()
    workspace = Workspace(
        name=f"ws-{name}", owner_id=owner.id, label_column="label", id_column="pid", classes=["a", "b"]
    )
    session.add(workspace)
    session.flush()
    version = CohortVersion(
        workspace_id=workspace.id,
        version=1,
        sha256="0" * 64,
        data_artifact="1" * 64,
        n_records=10,
        n_train=8,
        n_holdout=2,
        split_seed=0,
        holdout_fraction=0.2,
        holdout_ids_artifact="2" * 64,
    )
    session.add(version)
    session.flush()
    submission = Submission(
        workspace_id=workspace.id,
        user_id=owner.id,
        cohort_version_id=version.id,
        name=name,
        framework="sklearn",
        bundle_sha256="3" * 64,
    )
    session.add(submission)
    session.flush()
    run = Run(submission_id=submission.id, phase=phase)
    session.add(run)
    session.flush()
    return run


@pytest.fixture
def make_run() -> Callable[..., Run]:
    """`make_run(session, name=..., phase=...)`: the rows a Run needs, plus the Run (flushed)."""
    return add_run
