"""The twin's fake data: the cohort's dtypes, a bounded row count for `check`, values drawn inside the
released per-class ranges."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cohortbench.cohorts import make_transcriptomics, transcriptomics_spec
from cohortbench.errors import ValidationError
from cohortbench.privacy.twin import SchemaTwin
from cohortbench.sandbox.check import CHECK_RECORDS, twin_data

CLASSES = ("a", "b", "c")


def mixed_cohort(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """One column of each dtype a cohort may hold, float32 genes among them."""
    rng = np.random.default_rng(seed)
    y = rng.choice(np.array(CLASSES), n)
    shift = (y == "b") * 1.0 + (y == "c") * 2.0
    alt = rng.normal(40, 5, n) + shift
    alt[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame(
        {
            "pid": [f"P{i:04d}" for i in range(n)],
            "label": y,
            "gene_0": (rng.normal(8, 0.5, n) + shift).astype(np.float32),
            "gene_1": rng.normal(5, 0.2, n).astype(np.float32),
            "age": rng.integers(20, 90, n),
            "smoker": rng.integers(0, 2, n),
            "treated": rng.random(n) < 0.4,
            "dose": rng.normal(100, 10, n),
            "small": rng.integers(0, 5, n).astype(np.uint8),
            "count": rng.integers(0, 5, n).astype(np.int16),
            "alt32": alt.astype(np.float32),
            "site": pd.Categorical(rng.choice(["east", "west"], n)),
        }
    )


def _twin(frame: pd.DataFrame) -> SchemaTwin:
    features = [c for c in frame.columns if c not in ("pid", "label")]
    return SchemaTwin.from_frame(
        frame, id_column="pid", label_column="label", classes=CLASSES, feature_groups={"all": features}
    )


def test_fake_columns_have_the_cohorts_dtypes_through_json() -> None:
    real = mixed_cohort()
    twin = SchemaTwin.from_dict(json.loads(json.dumps(_twin(real).to_dict())))
    fake = twin.synthesize(300, seed=2)
    assert list(fake.columns) == list(real.columns)
    assert fake.dtypes.drop("pid").to_dict() == real.dtypes.drop("pid").to_dict()
    assert fake["alt32"].isna().any() and not fake["gene_0"].isna().any()
    assert set(np.unique(fake["smoker"])) <= {0, 1} and fake["treated"].any() and not fake["treated"].all()
    assert fake["small"].max() < 20 and fake["count"].min() < 0  # a uint8 clipped at 0, not wrapped to 255
    nullable = real.assign(age=real["age"].astype("Int64").mask(real.index % 7 == 0))
    aged = _twin(nullable).synthesize(300, seed=2)["age"]  # a nullable int: float with NaN, whole numbers
    assert aged.isna().any() and (aged.dropna() % 1 == 0).all()


def test_a_twin_without_dtypes_draws_the_kinds_defaults_and_an_unknown_dtype_is_refused() -> None:
    data = _twin(mixed_cohort()).to_dict()
    for column in data["columns"]:
        column.pop("dtype", None)
    fake = SchemaTwin.from_dict(data).synthesize(50)
    assert fake["gene_0"].dtype == np.float64 and fake["age"].dtype == np.int64
    data["columns"][0]["dtype"] = "object"
    with pytest.raises(ValidationError, match=r"not a schema twin.*dtype 'object'"):
        SchemaTwin.from_dict(data)


def test_values_fall_inside_the_released_range_of_their_class() -> None:
    """Normal draws whose 5th..95th percentiles are each class's released (p5, p95), pooled over 400
    genes; binary rates at the released rate."""
    spec = transcriptomics_spec(400, 600)
    real = make_transcriptomics(400, 600)
    twin = SchemaTwin.from_frame(
        real, id_column=spec.id_column, label_column=spec.label_column, classes=spec.classes,
        feature_groups=spec.feature_groups,
    )  # fmt: skip
    fake = twin.synthesize(900, seed=5)
    assert (fake[list(spec.features)].dtypes == np.float32).all()
    labels = fake[spec.label_column].to_numpy()
    for cls in spec.classes:
        rows = fake.loc[labels == cls, list(spec.features)].to_numpy(dtype=np.float64)
        lo = np.array([c.ranges[cls][0] for c in twin.columns])
        hi = np.array([c.ranges[cls][1] for c in twin.columns])
        wide = hi > lo  # a range rounded to one value (2 significant digits) is drawn around it
        assert wide.sum() > 300
        z = ((rows[:, wide] - (lo + hi)[wide] / 2) / ((hi - lo)[wide] / 2)).ravel()  # p5, p95 at -1, 1
        assert abs(np.quantile(z, 0.05) + 1) < 0.05 and abs(np.quantile(z, 0.95) - 1) < 0.05, cls
        assert abs(float(np.mean((z >= -1) & (z <= 1))) - 0.9) < 0.02, cls
    mixed = _twin(mixed_cohort())
    smoker = next(c for c in mixed.columns if c.name == "smoker")
    drawn = mixed.synthesize(3000, seed=1)
    for cls in CLASSES:
        rate = float(drawn.loc[drawn["label"] == cls, "smoker"].mean())
        assert abs(rate - smoker.ranges[cls][0]) < 0.05


def test_check_draws_at_most_check_records_whatever_the_cohort_size() -> None:
    twin = _twin(mixed_cohort())
    assert twin.n_records == 600
    train, y, holdout = twin_data(twin)
    assert (len(train), len(y), len(holdout)) == (480, 480, 120)
    train, y, holdout = twin_data(replace(twin, n_records=20_000))
    assert len(train) + len(holdout) == CHECK_RECORDS == 1_000 and len(holdout) == 200
    assert set(y) == {0, 1, 2} and list(train.columns) == [c.name for c in twin.columns]
    assert train["gene_0"].dtype == np.float32 and holdout["age"].dtype == np.int64
