"""The owner's CLI on a local data directory, and a contributor's CLI against `cohortbench serve`.

Commands run in-process (tests/cli_runner.py); the server, and one smoke test of the installed
entry point, are real subprocesses."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.cli_runner import Done, invoke
from tests.service.conftest import make_bundle, tiny_cohort


def cli(*args: str, data_dir: Path, check: bool = True, env: dict[str, str] | None = None) -> Done:
    return invoke(*args, env={"COHORTBENCH_DATA_DIR": str(data_dir), **(env or {})}, check=check)


def create_args(name: str, table: Path) -> list[str]:
    """`workspace create` of the tiny cohort: label, critical class and id column."""
    return [
        "workspace",
        "create",
        name,
        "--data",
        str(table),
        "--label",
        "label",
        "--critical",
        "high",
        "--id",
        "pid",
    ]


@pytest.fixture
def local(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    table = tmp_path / "cohort.csv"
    tiny_cohort().to_csv(table, index=False)
    cli(*create_args("tiny", table), "--holdout", "0.25", "--end-date", "2030-01-01", data_dir=data_dir)
    return data_dir


def _token(output: str) -> str:
    match = re.search(r"token \(shown once\): (\S+)", output)
    assert match, output
    return match.group(1)


def test_workspace_lifecycle(local: Path) -> None:
    listing = cli("workspace", "list", data_dir=local).stdout
    assert "tiny" in listing and "180/60" in listing
    token = _token(cli("user", "create", "alice", data_dir=local).stdout)
    assert len(token) > 20
    cli("workspace", "invite", "tiny", "alice", data_dir=local)
    updated = cli(
        "workspace", "update", "tiny", "--set", "quota=3", "--reason", "smaller pilot", data_dir=local
    )
    assert '"quota": 3' in updated.stdout
    cli("workspace", "publish", "tiny", data_dir=local)
    bad = cli("workspace", "update", "tiny", "--set", "quota=0", data_dir=local, check=False)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_create_refuses_a_bad_table_with_one_line(tmp_path: Path) -> None:
    table = tmp_path / "bad.csv"
    frame = tiny_cohort()
    frame.loc[3, "f1"] = float("inf")
    frame.to_csv(table, index=False)
    done = cli(*create_args("bad", table), data_dir=tmp_path / "d", check=False)
    assert done.returncode == 1 and "infinite values" in done.stderr and "f1 (1)" in done.stderr
    assert "Traceback" not in done.stderr


def _rows(data_dir: Path) -> dict[str, int]:
    db = sqlite3.connect(data_dir / "cohortbench.db")
    try:
        return {
            t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("users", "api_tokens", "workspaces", "memberships", "cohort_versions", "audit_entries")
        }
    finally:
        db.close()


def _artifacts(data_dir: Path) -> list[Path]:
    return (
        [p for p in (data_dir / "artifacts").rglob("*") if p.is_file()]
        if (data_dir / "artifacts").exists()
        else []
    )


def test_a_failed_create_leaves_nothing_behind(tmp_path: Path) -> None:
    """No administrator, token, workspace, cohort version, audit entry or artifact after a refusal."""
    data_dir = tmp_path / "d"
    bad = tiny_cohort()
    bad.loc[[2, 5], "label"] = None
    table = tmp_path / "cohort.csv"
    bad.to_csv(table, index=False)
    fine = tmp_path / "fine.csv"
    tiny_cohort().to_csv(fine, index=False)
    for args in (create_args("bad", table), [*create_args("bad", fine), "--critical", "nope"]):
        done = cli(*args, data_dir=data_dir, check=False)
        assert done.returncode == 1 and "token" not in done.stderr, done.stderr
        assert set(_rows(data_dir).values()) == {0} and _artifacts(data_dir) == []
    kept = cli(*create_args("good", table), "--missing-labels", "drop", data_dir=data_dir)
    assert "dropped 2 record(s) without a label" in kept.stdout and "token (shown once)" in kept.stderr
    assert _rows(data_dir)["users"] == 1 and _rows(data_dir)["cohort_versions"] == 1
    assert len(_artifacts(data_dir)) == 2


def test_create_keeps_missing_values_and_declared_categories(tmp_path: Path) -> None:
    frame = tiny_cohort()
    frame.loc[[1, 4, 8], "f2"] = None
    frame["site"] = ["north" if i % 2 else "south" for i in range(len(frame))]
    frame["stage"] = [i % 3 for i in range(len(frame))]
    table = tmp_path / "cohort.csv"
    frame.to_csv(table, index=False)
    done = cli(*create_args("mixed", table), "--categorical", "stage", data_dir=tmp_path / "d")
    assert "categorical: site (2 levels); stage (3 levels)" in done.stdout


def test_audit_verify_and_export_detect_tampering(local: Path, tmp_path: Path) -> None:
    assert "intact" in cli("audit", "verify", data_dir=local).stdout
    out = tmp_path / "audit.jsonl"
    cli("audit", "export", "--out", str(out), data_dir=local)
    entries = [json.loads(line) for line in out.read_text().splitlines()]
    assert entries and {"actor", "action", "hash"} <= set(entries[0])
    db = sqlite3.connect(local / "cohortbench.db")
    db.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute("UPDATE audit_entries SET actor='mallory' WHERE id=1")
    db.commit()
    db.close()
    broken = cli("audit", "verify", data_dir=local, check=False)
    assert broken.returncode == 1 and "modified" in broken.stdout


@contextmanager
def serve_at(data_dir: Path) -> Iterator[str]:
    """`cohortbench serve` on a free port over `data_dir`; yields its URL, stops it after."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "COHORTBENCH_DATA_DIR": str(data_dir),
        "COHORTBENCH_BOOTSTRAP_RESAMPLES": "200",
        "COHORTBENCH_IMPORTANCE_REPEATS": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "cohortbench.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def server(local: Path) -> Iterator[tuple[str, str]]:
    token = _token(cli("user", "create", "alice", data_dir=local).stdout)
    cli("workspace", "invite", "tiny", "alice", data_dir=local)
    with serve_at(local) as url:
        yield url, token


def test_contributor_submits_and_reads_the_leaderboard(server: tuple[str, str], tmp_path: Path) -> None:
    url, token = server
    env = {"COHORTBENCH_URL": url, "COHORTBENCH_TOKEN": token}
    bundle = make_bundle(tmp_path / "bundle")
    done = cli("submit", "tiny", str(bundle), data_dir=tmp_path, env=env)
    assert "succeeded" in done.stdout and "macro_f1" in done.stdout
    board = cli("leaderboard", "tiny", data_dir=tmp_path, env=env).stdout
    assert "tiny-lr" in board
    assert "succeeded" in cli("results", "1", data_dir=tmp_path, env=env).stdout
    wrong = cli(
        "leaderboard", "tiny", data_dir=tmp_path, env={**env, "COHORTBENCH_TOKEN": "nope"}, check=False
    )
    assert wrong.returncode == 1 and "401" in wrong.stderr


def test_the_installed_entry_point_prints_one_line_errors(tmp_path: Path) -> None:
    """Smoke test of `python -m cohortbench.cli` in a fresh interpreter (the server fixture starts
    `serve` the same way): a bad table is one line `error: ...` and exit status 1."""
    env = {**os.environ, "COHORTBENCH_DATA_DIR": str(tmp_path / "data")}
    argv = [sys.executable, "-m", "cohortbench.cli"]
    table = tmp_path / "bad.csv"
    table.write_text("pid,label\n")
    bad = subprocess.run(
        [*argv, *create_args("bad", table)], capture_output=True, text=True, env=env, timeout=120
    )
    *_admin_token, last = bad.stderr.strip().splitlines()  # the first command creates the administrator
    assert bad.returncode == 1 and last.startswith("error: invalid cohort") and "Traceback" not in bad.stderr
