"""`cohortbench cohort generate`: files it writes, and one-line errors on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohortbench import cohorts
from tests.cli_runner import Done, invoke


def run(*args: str) -> Done:
    return invoke("cohort", "generate", *args, check=False)


def test_writes_the_generated_cohort(tmp_path: Path) -> None:
    out = tmp_path / "nm.parquet"
    result = run("neuromuscular", "--out", str(out), "--seed", "4", "--site", "academic-a")
    assert result.returncode == 0, result.stderr
    expected = cohorts.generate("neuromuscular", seed=4, site="academic-a")
    assert cohorts.load_frame(out).equals(expected)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("liver", "--out", "{tmp}/x.csv"), "unknown cohort"),
        (("dili", "--out", "{tmp}/file/x.csv"), "cannot write"),
        (("dili", "--out", "{tmp}/x.csv", "--seed", "-1"), "non-negative"),
        (("dili", "--out", "{tmp}/x.csv", "--seed", "abc"), "non-negative"),
        (("dili", "--out", "{tmp}/x.json"), "unsupported file type"),
        (("dili", "--out", "{tmp}/x.csv", "--site", "mars"), "unknown site"),
    ],
)
def test_bad_input_is_one_line_error(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    result = run(*(a.format(tmp=tmp_path) for a in args))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], result.stderr
