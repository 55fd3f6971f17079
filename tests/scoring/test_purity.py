"""The scoring engine is core logic: importing it pulls in no web or database library."""

from __future__ import annotations

import subprocess
import sys

import cohortbench.scoring as scoring


def test_scoring_imports_no_web_or_database_modules() -> None:
    code = (
        "import sys, cohortbench.scoring; "
        "bad = [m for m in ('fastapi', 'starlette', 'httpx', 'sqlalchemy', 'psycopg', 'uvicorn') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_interface_is_complete() -> None:
    assert len(set(scoring.__all__)) == len(scoring.__all__)  # order is ruff's RUF022 (isort-style)
    assert all(hasattr(scoring, name) for name in scoring.__all__)
    for name in ("score", "compare", "transfer", "PermutedPrediction", "Result", "METRICS", "get_metric"):
        assert hasattr(scoring, name) and name in scoring.__all__
