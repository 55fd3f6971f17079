"""`cohortbench workspace grow` and `workspace versions` on a local deployment."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_owner_cli import cli, local
from tests.service.test_growth import batch

__all__ = ["local"]


def test_grow_adds_a_version_and_a_bad_batch_is_a_one_line_error(local: Path, tmp_path: Path) -> None:
    good = tmp_path / "batch.parquet"
    batch().to_parquet(good, index=False)
    done = cli("workspace", "grow", "tiny", "--data", str(good), data_dir=local)
    assert "cohort version 2 of tiny: 300 records (240 train / 60 holdout, holdout fixed)" in done.stdout
    bad = tmp_path / "bad.csv"
    batch(prefix="M").drop(columns=["f0"]).to_csv(bad, index=False)
    refused = cli("workspace", "grow", "tiny", "--data", str(bad), data_dir=local, check=False)
    assert refused.returncode != 0 and "missing column(s): f0" in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr
    listing = cli("workspace", "versions", "tiny", data_dir=local).stdout
    assert "300" in listing and "low 100" in listing
    assert sum("fixed" in line for line in listing.splitlines()) == 2  # no version from the refused batch


def test_rerun_with_nothing_to_rerun_is_a_one_line_error(local: Path) -> None:
    refused = cli("rerun", "tiny", "--version", "1", data_dir=local, check=False)
    assert (
        refused.returncode == 1 and "no succeeded submission to re-run on cohort version 1" in refused.stderr
    )
    bad = cli("rerun", "tiny", "--version", "1", "--submissions", "1,x", data_dir=local, check=False)
    assert bad.returncode == 1 and "ids separated by commas" in bad.stderr
