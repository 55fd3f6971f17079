"""The schema twin: public, coarse, and enough to synthesise a frame of the same shape."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cohortbench.cohorts import DILI, NEUROMUSCULAR, generate
from cohortbench.errors import ValidationError
from cohortbench.privacy import SchemaTwin


@pytest.fixture(scope="module")
def dili_twin() -> SchemaTwin:
    frame = generate("dili")
    return SchemaTwin.from_frame(
        frame,
        id_column=DILI.id_column,
        label_column=DILI.label_column,
        classes=DILI.classes,
        feature_groups=DILI.feature_groups,
    )


def test_twin_round_trips_through_json(dili_twin: SchemaTwin) -> None:
    assert SchemaTwin.from_dict(json.loads(json.dumps(dili_twin.to_dict()))) == dili_twin


def test_twin_holds_no_single_patients_extreme(dili_twin: SchemaTwin) -> None:
    frame = generate("dili")
    for column in dili_twin.columns:
        if column.kind == "binary":
            continue
        values = frame[column.name].to_numpy(dtype=float)
        extremes = {e for e in (values.min(), values.max()) if (values == e).sum() < 11}
        for lo, hi in column.ranges.values():
            assert not {lo, hi} & extremes, column.name
    assert all(v is None or round(v, 2) == v for v in dili_twin.class_shares.values())


def test_synthesized_frame_has_the_cohort_schema(dili_twin: SchemaTwin) -> None:
    real = generate("dili")
    fake = dili_twin.synthesize(200, seed=3)
    assert list(fake.columns) == list(real.columns)
    assert fake[DILI.label_column].dtype == real[DILI.label_column].dtype
    assert set(fake[DILI.label_column].astype(str)) == set(DILI.classes)
    assert not set(fake[DILI.id_column]) & set(real[DILI.id_column])
    severe = fake[DILI.label_column].astype(str) == "3"
    assert fake.loc[severe, "cumulative_dose_mg"].mean() > fake.loc[~severe, "cumulative_dose_mg"].mean()


def test_twin_from_spec_synthesizes_every_class() -> None:
    fake = SchemaTwin.from_spec(NEUROMUSCULAR).synthesize(30, seed=1)
    assert fake.shape == (30, 2 + len(NEUROMUSCULAR.features))
    assert set(fake[NEUROMUSCULAR.label_column]) == set(NEUROMUSCULAR.classes)
    assert np.isfinite(fake[list(NEUROMUSCULAR.features)].to_numpy()).all()


def test_twin_rejects_a_malformed_dict() -> None:
    with pytest.raises(ValidationError, match="not a schema twin"):
        SchemaTwin.from_dict({"id_column": "pid"})
