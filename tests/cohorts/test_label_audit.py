"""The label audit finds planted label flips: at least 12 of 20 among its 40 top suspects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cohortbench import cohorts
from cohortbench.cohorts.label_audit import audit_labels
from cohortbench.errors import ValidationError


def plant_flips(
    frame: pd.DataFrame, label: str, classes: tuple[str, ...], n: int, seed: int
) -> tuple[pd.DataFrame, set[str]]:
    """`n` records given another class than their own, drawn at random; returns the frame and their ids."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(frame), n, replace=False)
    out = frame.copy()
    out[label] = out[label].astype(str)
    for i in rows:
        out.loc[i, label] = rng.choice([c for c in classes if c != out.loc[i, label]])
    return out, set(out.loc[rows, "patient_id"])


@pytest.mark.slow  # 5-fold CV on 1,600 x 201: about 17 s of CPU
def test_twenty_planted_flips_are_mostly_among_the_top_forty_suspects() -> None:
    spec = cohorts.get_spec("dili")
    classes = tuple(str(c) for c in spec.classes)
    frame, planted = plant_flips(cohorts.generate("dili"), spec.label_column, classes, 20, seed=0)
    result = audit_labels(
        frame,
        id_column=spec.id_column,
        label_column=spec.label_column,
        classes=classes,
        features=list(spec.features),
    )
    top = result.suspects[:40]
    found = {s.record_id for s in top} & planted
    assert len(found) >= 12, len(found)
    truth = cohorts.generate("dili").set_index("patient_id")[spec.label_column].astype(str)
    for s in top:  # each suspect carries its given label and the model's suggestion instead
        assert s.given == frame.set_index("patient_id").loc[s.record_id, spec.label_column]
        assert s.suggested != s.given or s.self_confidence < 0.5
    assert sum(truth[s.record_id] == s.suggested for s in top if s.record_id in planted) >= len(found) // 2
    assert [s.self_confidence for s in top] == sorted(s.self_confidence for s in top)


def test_an_audit_needs_every_class() -> None:
    frame = pd.DataFrame({"patient_id": ["a", "b", "c"], "y": ["0", "0", "0"], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValidationError, match="every class"):
        audit_labels(frame, id_column="patient_id", label_column="y", classes=("0", "1"), features=["x"])
