"""`cohortbench audit verify|export` with a saved head: every verify prints the head to keep, and a
later verify given it (on the database or, offline, on an exported file) catches a cut-off tail."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from cohortbench.cli.app import app
from cohortbench.errors import ValidationError
from cohortbench.service import Platform, Settings
from cohortbench.store import audit

HEAD = re.compile(r"--entries (\d+) --head ([0-9a-f]{64})")


def _cli(data_dir: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["audit", *args, "--data-dir", str(data_dir)])
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_verify_with_a_saved_head_and_offline(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    platform = Platform.open(Settings(data_dir=data_dir, embedded_worker=False))
    with platform.session() as session:
        for i in range(4):
            audit.append(
                session, actor="owner", action="rules.change", target="workspace:w", payload={"i": i}
            )
    platform.close()
    first = _cli(data_dir, "verify")  # also creates the local administrator
    saved = HEAD.search(_cli(data_dir, "verify"))
    assert saved is not None and "intact" in first
    entries, head = saved.groups()
    export = tmp_path / "audit.jsonl"
    assert f"head {head}" in _cli(data_dir, "export", "--out", str(export))
    matched = _cli(data_dir, "verify", "--entries", entries, "--head", head, "--file", str(export))
    assert f"saved head (entry {entries}) matches; 0 entries appended since" in matched

    db = sqlite3.connect(data_dir / "cohortbench.db")
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DELETE FROM audit_entries WHERE id >= 3")
    db.commit()
    db.close()
    alone = _cli(data_dir, "verify")  # the chain alone cannot tell: it prints the new, shorter head
    assert "intact: 2 entries" in alone
    broken = _cli(data_dir, "verify", "--entries", entries, "--head", head, code=1)
    assert "truncated at entry 3" in broken and "2 entries, head" in broken
    assert "matches" in _cli(data_dir, "verify", "--entries", entries, "--head", head, "--file", str(export))

    result = CliRunner().invoke(app, ["audit", "verify", "--head", head, "--data-dir", str(data_dir)])
    assert isinstance(result.exception, ValidationError)
