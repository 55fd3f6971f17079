"""`cohortbench check`: both phases on the schema twin, everything shown (the data is fake)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import typer
from typer.testing import CliRunner

from cohortbench.cli.check import check
from cohortbench.cohorts import get_spec
from cohortbench.privacy.twin import SchemaTwin
from cohortbench.sandbox.check import check_bundle
from tests.sandbox.conftest import SAME_SANDBOX, write_bundle, write_phase_bundle


def test_check_runs_both_phases_and_shows_the_logs(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b", "print('debug line from the model')")
    app = typer.Typer()
    app.command()(check)
    app.command("other")(lambda: None)
    result = CliRunner().invoke(app, ["check", str(bundle), "--workspace", "neuromuscular"])
    assert result.exit_code == 0, result.output
    assert "baseline: succeeded" in result.output and "finetune: succeeded" in result.output
    assert "0.9" in result.output and "0.25" in result.output
    assert "debug line from the model" in result.output  # fake data: the logs are shown


def test_check_exits_nonzero_and_shows_the_error(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b", "raise KeyError('no such column')")
    app = typer.Typer()
    app.command()(check)
    app.command("other")(lambda: None)
    result = CliRunner().invoke(app, ["check", str(bundle), "--workspace", "neuromuscular"])
    assert result.exit_code == 1
    assert "crashed" in result.output and "KeyError" in result.output and "model.py" in result.output


def test_check_runs_both_phases_in_one_sandboxed_process(tmp_path: Path) -> None:
    bundle = write_phase_bundle(tmp_path / "b", **SAME_SANDBOX)
    twin = SchemaTwin.from_spec(cast(Any, get_spec("neuromuscular")))
    report = check_bundle(bundle, twin)
    assert report.baseline.ok and report.finetune.ok, report.finetune.owner_log
    assert report.finetune.losses == (1.0,)
