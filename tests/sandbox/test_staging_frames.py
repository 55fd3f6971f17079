"""What the entry reads back is the frame the host staged: same columns, dtypes and values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohortbench.sandbox.frames import write_frame

RNG = np.random.default_rng(0)
NUMERIC = pd.DataFrame(
    {
        "gene_a": RNG.normal(size=50).astype(np.float32),
        "gene_b": np.where(RNG.random(50) < 0.2, np.nan, RNG.normal(size=50)),
        "age": RNG.integers(18, 90, 50).astype(np.int16),
        "visits": RNG.integers(0, 9, 50).astype(np.uint8),
        "smoker": RNG.random(50) < 0.3,
        "dose": RNG.integers(0, 10**12, 50),
    }
)
MIXED = NUMERIC.assign(
    centre=pd.Categorical(RNG.choice(["a", "b", "other"], 50), categories=["a", "b", "other"]),
    count=pd.array(np.where(RNG.random(50) < 0.2, None, RNG.integers(0, 5, 50)), dtype="Int64"),
)


@pytest.mark.parametrize("frame", [NUMERIC, MIXED, NUMERIC.iloc[:0]], ids=["numeric", "mixed", "empty"])
def test_a_staged_frame_reads_back_as_itself(tmp_path: Path, frame: pd.DataFrame) -> None:
    write_frame(frame, tmp_path / "x.parquet")
    back = pd.read_parquet(tmp_path / "x.parquet")
    pd.testing.assert_frame_equal(back, frame.reset_index(drop=True), check_exact=True)
