"""The schema twin's scaling fixes describe a cohort exactly as before, at 2,000 features in seconds."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from cohortbench.cohorts import make_transcriptomics, transcriptomics_spec
from cohortbench.privacy.released import MIN_CELL
from cohortbench.privacy.twin import SchemaTwin
from cohortbench.privacy.twin_columns import _coarse_range, _kind


def test_twin_of_2000_features_has_each_class_range_of_its_own_rows() -> None:
    spec = transcriptomics_spec(2_000, 400)
    frame = make_transcriptomics(2_000, 400)
    start = time.perf_counter()
    twin = SchemaTwin.from_frame(
        frame, id_column=spec.id_column, label_column=spec.label_column, classes=spec.classes,
        feature_groups=spec.feature_groups,
    )  # fmt: skip
    assert time.perf_counter() - start < 60  # a guard against a per-cell loop, not a timing test
    assert [c.name for c in twin.columns] == list(spec.features)
    labels = frame[spec.label_column].astype(str)
    for column in twin.columns[::397]:
        values = frame[column.name].to_numpy(dtype=np.float64)
        for cls in spec.classes:
            want = _coarse_range(values[(labels == cls).to_numpy()], "float", MIN_CELL)
            assert column.kind == "float" and column.ranges[cls] == want


def test_binary_detection_is_unchanged() -> None:
    def old(column: pd.Series) -> bool:
        values = column.dropna()
        return bool(pd.api.types.is_bool_dtype(column) or (len(values) and set(np.unique(values)) <= {0, 1}))

    cases = [
        pd.Series([0.0, 1.0, 1.0, np.nan]), pd.Series([0, 1, 2]), pd.Series([True, False]),
        pd.Series([1, 1, 1]), pd.Series([0.5, 1.0]), pd.Series([np.nan, np.nan]), pd.Series([], dtype=float),
    ]  # fmt: skip
    for case in cases:
        assert (_kind(case) == "binary") == old(case), case.tolist()


def test_sorted_median_is_numpys_median() -> None:
    from cohortbench.privacy.stats import sorted_median

    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 10, 11, 1_000, 1_001):
        for x in (np.sort(rng.normal(size=n)), np.sort(rng.integers(0, 3, n).astype(float))):
            assert sorted_median(x) == float(np.median(x))
