"""Batched permuted predictions (sandbox/permuting.py) against the per-copy reference."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from cohortbench.sandbox import permutation_specs
from cohortbench.sandbox.errors import BadPredictionsError, detail_of
from cohortbench.sandbox.permuting import chunks, permuted, predict_permuted, stacked

SITES = ["north", "south", "east"]


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, np.ndarray]:
    """90 rows: two float columns with NaNs, an int column and a categorical one (with NaNs) that
    carries the label's signal."""
    rng = np.random.default_rng(3)
    n = 90
    y = rng.integers(0, 3, n)
    frame = pd.DataFrame(
        {
            "f0": rng.normal(size=n) + y,
            "f1": rng.normal(size=n).astype(np.float32),
            "count": rng.integers(0, 9, n),
            "site": pd.Categorical(np.array(SITES)[y], categories=SITES),
        }
    )
    frame.loc[rng.choice(n, 9, replace=False), "f0"] = np.nan
    frame.loc[rng.choice(n, 7, replace=False), "site"] = np.nan
    return frame, y


@pytest.fixture(scope="module")
def model(table: tuple[pd.DataFrame, np.ndarray]) -> HistGradientBoostingClassifier:
    frame, y = table
    return HistGradientBoostingClassifier(max_iter=20, categorical_features="from_dtype").fit(frame, y)


def _specs(frame: pd.DataFrame) -> list[dict[str, object]]:
    groups = {"numbers": ["f0", "f1", "count"], "site": ["site"]}
    return [asdict(s) for s in permutation_specs(groups, repeats=2, seed=11)]


def _counting(
    predict: Callable[[pd.DataFrame], np.ndarray], rows: list[int]
) -> Callable[[pd.DataFrame], np.ndarray]:
    def call(frame: pd.DataFrame) -> np.ndarray:
        rows.append(len(frame))
        return predict(frame)

    return call


@pytest.mark.parametrize(
    "max_cells", [1_000_000, 3 * 90 * 4, 1], ids=["one chunk", "3 per chunk", "under a frame"]
)
def test_batched_importance_equals_the_per_copy_predictions(
    table: tuple[pd.DataFrame, np.ndarray], model: HistGradientBoostingClassifier, max_cells: int
) -> None:
    frame, _ = table
    specs = _specs(frame)  # 2 groups + 4 features, 2 repeats: 12 copies
    reference = np.stack([model.predict_proba(permuted(frame, s)) for s in specs])
    rows: list[int] = []
    batched = predict_permuted(_counting(model.predict_proba, rows), frame, specs, 3, max_cells=max_cells)
    assert batched.shape == (12, 90, 3)
    np.testing.assert_array_equal(batched, reference)
    expected_calls = {1_000_000: [12 * 90], 3 * 90 * 4: [3 * 90] * 4, 1: [90] * 12}[max_cells]
    assert rows == expected_calls
    # the site carries the signal: permuting it changes the predictions, permuting nothing would not
    site = [i for i, s in enumerate(specs) if s["columns"] == ("site",)]
    assert not np.allclose(batched[site[0]], model.predict_proba(frame))


def test_stacked_copies_keep_dtypes_categories_and_missing_values(
    table: tuple[pd.DataFrame, np.ndarray],
) -> None:
    frame, _ = table
    specs = _specs(frame)[:5]
    batch = stacked(frame, specs)
    assert batch.index.equals(pd.RangeIndex(5 * 90))
    assert batch.dtypes.equals(frame.dtypes)
    assert list(batch["site"].cat.categories) == SITES
    for j, spec in enumerate(specs):
        copy = batch.iloc[j * 90 : (j + 1) * 90].reset_index(drop=True)
        pd.testing.assert_frame_equal(copy, permuted(frame, spec))
        assert copy["f0"].isna().sum() == frame["f0"].isna().sum()
        untouched = [c for c in frame.columns if c not in spec["columns"]]
        pd.testing.assert_frame_equal(copy[untouched], frame[untouched])


def test_a_chunk_holds_at_least_one_copy_and_never_more_cells_than_allowed() -> None:
    specs = [{"seed": i, "columns": ["a"]} for i in range(10)]
    assert [len(c) for c in chunks(specs, 100, 20, 1)] == [1] * 10
    assert [len(c) for c in chunks(specs, 100, 20, 8_000)] == [4, 4, 2]
    assert [len(c) for c in chunks(specs, 0, 20, 8_000)] == [10]


@pytest.mark.parametrize(
    ("predict", "detail"),
    [
        (lambda X: np.full((len(X) + 1, 3), 1 / 3), "wrong_shape"),
        (lambda X: np.full((len(X) // 2, 3), 1 / 3), "wrong_shape"),
        (lambda X: np.full((len(X), 3), 0.5), "rows_do_not_sum_to_1"),
        (lambda X: np.where(np.arange(len(X))[:, None] < 200, 1 / 3, np.nan) * np.ones((1, 3)), "not_finite"),
    ],
    ids=["one row more", "half the rows", "rows sum to 1.5", "NaN past row 200"],
)
def test_each_chunk_is_checked_like_the_holdout_predictions(
    table: tuple[pd.DataFrame, np.ndarray], predict: Callable[[pd.DataFrame], np.ndarray], detail: str
) -> None:
    frame, _ = table
    with pytest.raises(BadPredictionsError) as caught:
        predict_permuted(predict, frame, _specs(frame), 3, max_cells=3 * 90 * 4)
    assert detail_of("bad_predictions", str(caught.value)) == detail
