"""Cohorts with missing values and categorical features: what is kept, what is refused, and why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cohortbench.errors import ValidationError
from cohortbench.workspaces import apply_categories, frame_digest, validate_cohort


def _table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "pid": [f"P{i:03d}" for i in range(n)],
            "y": np.repeat(["a", "b"], n // 2),
            "lab": rng.normal(size=n),
            "site": rng.choice(["north", "south", "east"], size=n),
            "grade": rng.integers(1, 4, size=n),
        }
    )
    frame.loc[[1, 5, 9], "lab"] = np.nan
    frame.loc[[2, 4], "site"] = None
    return frame


def test_missing_feature_values_are_kept_as_nan() -> None:
    table = validate_cohort(_table(), id_column="pid", label_column="y")
    assert int(table.frame["lab"].isna().sum()) == 3
    assert table.frame.loc[1, "lab"] != table.frame.loc[1, "lab"]  # NaN, not imputed


def test_text_columns_and_declared_columns_become_categories_with_a_fixed_order() -> None:
    table = validate_cohort(_table(), id_column="pid", label_column="y", categorical=["grade"])
    assert table.categories == {"site": ("east", "north", "south"), "grade": ("1", "2", "3")}
    site = table.frame["site"]
    assert isinstance(site.dtype, pd.CategoricalDtype)
    assert list(site.cat.categories) == ["east", "north", "south"] and int(site.isna().sum()) == 2
    assert list(table.frame["grade"].cat.categories) == ["1", "2", "3"]
    # the stored bytes keep the levels: reading them back gives the same dtype and order
    _sha, data = frame_digest(table.frame)
    import io

    back = pd.read_parquet(io.BytesIO(data))
    assert list(back["site"].cat.categories) == ["east", "north", "south"]


def test_stored_levels_fix_the_order_and_refuse_new_values() -> None:
    levels = {"site": ["south", "north", "east", "west"]}
    table = validate_cohort(_table(), id_column="pid", label_column="y", categories=levels)
    assert list(table.frame["site"].cat.categories) == ["south", "north", "east", "west"]
    frame = _table()
    frame.loc[0, "site"] = "mars"
    with pytest.raises(ValidationError, match="'site' has value\\(s\\) outside its levels: mars"):
        validate_cohort(frame, id_column="pid", label_column="y", categories=levels)
    recast = apply_categories(_table(), levels)
    assert list(recast["site"].cat.categories) == levels["site"]


def test_infinite_values_are_refused_naming_the_columns() -> None:
    frame = _table()
    frame.loc[[3, 7], "lab"] = np.inf
    frame["other"] = 1.0
    frame.loc[0, "other"] = -np.inf
    with pytest.raises(ValidationError, match=r"infinite values .* 2 column\(s\): lab \(2\), other \(1\)"):
        validate_cohort(frame, id_column="pid", label_column="y")


def test_missing_labels_are_refused_by_default_and_dropped_on_request() -> None:
    frame = _table()
    frame.loc[[0, 10, 40], "y"] = None
    with pytest.raises(ValidationError, match="3 record\\(s\\) without a label in column 'y'"):
        validate_cohort(frame, id_column="pid", label_column="y")
    table = validate_cohort(frame, id_column="pid", label_column="y", missing_labels="drop")
    assert table.n_dropped == 3 and len(table.frame) == 57
    assert "P000" not in set(table.frame["pid"])
    with pytest.raises(ValidationError, match="'refuse' or 'drop'"):
        validate_cohort(frame, id_column="pid", label_column="y", missing_labels="impute")


def test_a_declared_categorical_column_must_be_a_feature() -> None:
    with pytest.raises(ValidationError, match="not features: nowhere"):
        validate_cohort(_table(), id_column="pid", label_column="y", categorical=["nowhere"])


def test_free_text_is_refused_as_a_category() -> None:
    frame = _table(n=1200)
    frame["note"] = [f"note {i}" for i in range(len(frame))]
    with pytest.raises(ValidationError, match="'note' has 1200 distinct text values"):
        validate_cohort(frame, id_column="pid", label_column="y")


def test_whole_number_labels_stay_whole_when_a_missing_label_made_them_floats() -> None:
    frame = _table()
    frame["y"] = np.repeat([0, 3], 30)
    frame.loc[0, "y"] = None  # pandas now holds 0.0 and 3.0
    table = validate_cohort(frame, id_column="pid", label_column="y", missing_labels="drop")
    assert table.classes == ("0", "3") and table.frame["y"].dtype == np.int64
