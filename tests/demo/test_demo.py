"""`cohortbench demo --no-serve` end to end on reduced settings: the brief's story must hold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cohortbench.service.release import CRITICAL_RECALL_FLOOR

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data_dir = tmp_path_factory.mktemp("demo")
    command = [sys.executable, "-m", "cohortbench.cli", "demo", "--no-serve", "--data-dir", str(data_dir)]
    command += ["--resamples", "200", "--repeats", "1", "--examples", str(ROOT / "examples")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1500, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "leaderboard" in done.stdout.lower() or "Safety metabolomics" in done.stdout
    return json.loads((data_dir / "demo-summary.json").read_text())


def _rows(summary: dict, workspace: str) -> dict[str, dict]:
    return {row["contributor"]: row for row in summary["leaderboards"][workspace]["rows"]}


@pytest.mark.slow
def test_every_baseline_is_below_its_claim(summary: dict) -> None:
    for workspace in ("dili", "neuromuscular"):
        for name, row in _rows(summary, workspace).items():
            if name == "Internal team":
                continue
            assert row["baseline"]["value"] < row["claimed"], (workspace, name)


@pytest.mark.slow
def test_fine_tuning_improves_most_contributors(summary: dict) -> None:
    gains = [
        row["finetuned"]["value"] > row["baseline"]["value"]
        for workspace in ("dili", "neuromuscular")
        for name, row in _rows(summary, workspace).items()
        if name != "Internal team" and row["finetuned"] is not None
    ]
    assert len(gains) == 6 and sum(gains) > len(gains) / 2


@pytest.mark.slow
def test_dili_warning_marks_exactly_the_rows_with_low_severe_recall(summary: dict) -> None:
    for name, row in _rows(summary, "dili").items():
        low = row["critical_recall"]["value"] < CRITICAL_RECALL_FLOOR
        assert (row["warning"] is not None) == low, name


@pytest.mark.slow
def test_dili_unweighted_contributor_finds_the_fewest_severe_cases(summary: dict) -> None:
    """The brief's Contributor C as the seed-0 data give it (docs/demo.md): pretrained without class
    weights where severe cases were rare, it keeps the lowest severe recall after fine-tuning. It is no
    longer flagged on seed 0: the earlier flag came from a diverging LightGBM fit (issue 14)."""
    rows = _rows(summary, "dili")
    unweighted = rows.pop("Contributor C")["critical_recall"]["value"]
    assert all(unweighted < row["critical_recall"]["value"] for row in rows.values())


@pytest.mark.slow
def test_pathway_contributor_beats_the_internal_baseline(summary: dict) -> None:
    rows = _rows(summary, "neuromuscular")
    internal = rows["Internal team"]["baseline"]["value"]
    assert rows["Contributor B"]["finetuned"]["value"] > internal


@pytest.mark.slow
def test_the_second_site_batch_flags_its_analyser_features_and_the_contributors_are_rerun(
    summary: dict,
) -> None:
    growth = summary["growth"]
    assert growth["version"] == 2 and sorted(growth["flagged"]) == ["ALT", "AST"]
    assert len(growth["reruns"]) == 3
    series = {row["contributor"]: row for row in growth["holdup"]}
    assert set(series) == {"Contributor A", "Contributor B", "Contributor C"}
    for row in series.values():
        assert [p["version"] for p in row["points"]] == [1, 2]
        assert all(p["value"] is not None for p in row["points"])
