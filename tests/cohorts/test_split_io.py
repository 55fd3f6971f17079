"""The stratified split and CSV/Parquet round trips."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cohortbench import cohorts
from cohortbench.cohorts import DILI, NEUROMUSCULAR
from cohortbench.errors import ValidationError


def test_dili_split_sizes_and_severe_cases() -> None:
    train, holdout = cohorts.split(cohorts.generate("dili"), DILI, seed=0)
    assert (len(train), len(holdout)) == (1280, 320)
    assert (holdout["dili_class"] == 3).sum() == 15
    assert holdout["dili_class"].value_counts().sort_index().tolist() == [289, 4, 12, 15]
    assert set(train["patient_id"]).isdisjoint(holdout["patient_id"])


def test_neuromuscular_split_preserves_proportions() -> None:
    frame = cohorts.generate("neuromuscular")
    train, holdout = cohorts.split(frame, NEUROMUSCULAR, seed=3)
    assert (len(train), len(holdout)) == (512, 128)
    full = frame["progression"].value_counts(normalize=True)
    part = holdout["progression"].value_counts(normalize=True)
    assert (full - part).abs().max() < 0.01


def test_split_is_seeded() -> None:
    frame = cohorts.generate("dili")
    a = cohorts.split(frame, DILI, seed=5)[1]["patient_id"].tolist()
    b = cohorts.split(frame, DILI, seed=5)[1]["patient_id"].tolist()
    c = cohorts.split(frame, DILI, seed=6)[1]["patient_id"].tolist()
    assert a == b != c


def test_split_rejects_bad_size() -> None:
    with pytest.raises(ValidationError, match="holdout_size"):
        cohorts.split(cohorts.generate("neuromuscular"), NEUROMUSCULAR, holdout_size=640)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("name", ["dili", "neuromuscular"])
def test_round_trip(tmp_path: Path, name: str, suffix: str) -> None:
    frame = cohorts.generate(name)
    path = tmp_path / f"cohort{suffix}"
    cohorts.save_frame(frame, path)
    pd.testing.assert_frame_equal(cohorts.load_frame(path), frame, check_dtype=False)


def test_save_rejects_unknown_suffix_and_unwritable_path(tmp_path: Path) -> None:
    frame = cohorts.generate("neuromuscular")
    with pytest.raises(ValidationError, match=r"\.xlsx"):
        cohorts.save_frame(frame, tmp_path / "x.xlsx")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    for suffix in (".csv", ".parquet"):
        with pytest.raises(ValidationError, match="cannot write") as info:
            cohorts.save_frame(frame, blocker / f"x{suffix}")
        assert "\n" not in info.value.message


def test_load_rejects_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        cohorts.load_frame(tmp_path / "absent.csv")
