"""transcriptomics-large at small sizes: float32, pathways as feature groups, signal in pathway means."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohortbench.cohorts import generate, load_frame, make_transcriptomics, save_frame, transcriptomics_spec
from cohortbench.cohorts.io import read_parquet
from cohortbench.errors import ValidationError


def test_shape_types_groups_and_determinism() -> None:
    frame = make_transcriptomics(1_000, 300, pathway_size=200)
    spec = transcriptomics_spec(1_000, 300, pathway_size=200)
    assert list(frame.columns) == [spec.id_column, spec.label_column, *spec.features]
    assert frame.shape == (300, 1_002) and frame["patient_id"].is_unique
    assert all(frame[f].dtype == np.float32 for f in spec.features)
    assert len(spec.feature_groups) == 5 and all(len(g) == 200 for g in spec.feature_groups.values())
    assert tuple(frame[spec.label_column].value_counts()[list(spec.classes)]) == spec.class_counts
    pd.testing.assert_frame_equal(frame, make_transcriptomics(1_000, 300, pathway_size=200))
    assert not frame.equals(make_transcriptomics(1_000, 300, pathway_size=200, seed=1))


def test_a_pathway_mean_carries_the_signal_a_single_gene_hardly_does() -> None:
    spec = transcriptomics_spec(2_000, 1_500)
    frame = make_transcriptomics(2_000, 1_500)
    z = frame[spec.label_column].map({"Slow": 0, "Medium": 1, "Fast": 2}).to_numpy(dtype=float)
    first = list(spec.feature_groups["pathway_000"])
    pathway = abs(np.corrcoef(frame[first].to_numpy().mean(axis=1), z)[0, 1])
    gene = abs(np.corrcoef(frame[first[0]].to_numpy(), z)[0, 1])
    silent = list(spec.feature_groups["pathway_009"])
    assert pathway > 0.7 > 0.5 > gene
    assert abs(np.corrcoef(frame[silent].to_numpy().mean(axis=1), z)[0, 1]) < 0.15


def test_bad_sizes_and_sites_are_refused() -> None:
    with pytest.raises(ValidationError, match="50 patients"):
        make_transcriptomics(100, 10)
    with pytest.raises(ValidationError, match="no shifted sites"):
        generate("transcriptomics-large", site="academic-a")


def test_read_parquet_in_column_chunks_is_pandas_read_parquet(tmp_path: Path) -> None:
    frame = make_transcriptomics(500, 60)
    frame["count"] = np.arange(60, dtype=np.int64)
    frame["flag"] = np.arange(60) % 2 == 0
    path = tmp_path / "wide.parquet"
    save_frame(frame, path)
    whole = pd.read_parquet(path, engine="pyarrow")
    for chunk in (7, 100, 10_000):
        pd.testing.assert_frame_equal(read_parquet(path, chunk_columns=chunk), whole)
    pd.testing.assert_frame_equal(load_frame(path), whole)
