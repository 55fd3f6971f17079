"""The CLI starts fast because it imports no heavy library to parse its arguments or print help.

Structural, not timed: a fresh interpreter imports `cohortbench.cli.app` (and runs `--help`, and
imports what `results` / `leaderboard` use), then reports which heavy modules got loaded.
Timings are in docs/performance.md (benchmarks/cli_startup.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("sklearn", "pandas", "numpy", "scipy", "torch", "xgboost", "lightgbm")
SRC = str(Path(__file__).resolve().parents[2] / "src")


def loaded_after(code: str) -> list[str]:
    probe = f"""
import contextlib, io, json, sys
{code}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({list(HEAVY)!r}))))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert loaded_after("import cohortbench.cli.app") == []


def test_help_loads_no_heavy_library() -> None:
    code = """
from cohortbench.cli.app import app
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    app(["--help"])
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    app(["results", "--help"])
"""
    assert loaded_after(code) == []


def test_contributor_commands_load_no_heavy_library() -> None:
    """`results` and `leaderboard` use the SDK: it imports pandas only to build a DataFrame."""
    code = "import cohortbench.cli.contribute, cohortbench.client\ncohortbench.client.Client('http://x', 't')"
    assert loaded_after(code) == []
