"""Bad inputs are refused with a message naming the problem; nothing is silently repaired."""

from __future__ import annotations

import numpy as np
import pytest

from cohortbench.errors import ValidationError
from cohortbench.scoring import ROW_SUM_ATOL, score
from scoring.holdouts import CLASSES_4

GOOD_Y = np.array([0, 1, 2, 3])
GOOD_P = np.full((4, 4), 0.25)


def _score(y=GOOD_Y, p=GOOD_P, **kw):  # type: ignore[no-untyped-def]
    kw = {"classes": CLASSES_4, "critical_class": "severe", "n_resamples": 10} | kw
    return score(y, p, **kw)


@pytest.mark.parametrize(
    ("y", "p", "kw", "message"),
    [
        (GOOD_Y, GOOD_P[:3], {}, "shape (3, 4), expected (4, 4)"),
        (GOOD_Y, GOOD_P[:, :3], {}, "shape (4, 3)"),
        (GOOD_Y, np.where(np.eye(4, dtype=bool), np.nan, 0.25), {}, "NaN or infinite"),
        (GOOD_Y, np.where(np.eye(4, dtype=bool), np.inf, 0.25), {}, "NaN or infinite"),
        (GOOD_Y, np.array([[1.5, -0.5, 0, 0]] * 4), {}, "outside [0, 1]"),
        (GOOD_Y, np.full((4, 4), 0.2), {}, "sum to 1 within 1e-06"),
        (np.array([0, 1, 2, 7]), GOOD_P, {}, "outside 0..3"),
        (np.array([0, 1, 2, -1]), GOOD_P, {}, "-1"),
        (np.array([0.0, 1.0, 2.5, 3.0]), GOOD_P, {}, "2.5"),
        (np.array(["none", "mild", "fatal", "severe"]), GOOD_P, {}, "'fatal'"),
        (np.array([[0, 1], [2, 3]]), GOOD_P, {}, "one-dimensional"),
        (np.array([], dtype=int), np.zeros((0, 4)), {}, "empty"),
        (GOOD_Y, GOOD_P, {"critical_class": "fatal"}, "critical_class 'fatal'"),
        (GOOD_Y, GOOD_P, {"classes": ("a", "a", "b", "c")}, "duplicate"),
        (GOOD_Y, GOOD_P, {"n_resamples": 0}, "n_resamples"),
        (GOOD_Y, GOOD_P, {"confidence": 1.0}, "confidence"),
    ],
)
def test_bad_input_is_named(y, p, kw, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=None) as info:
        _score(y, p, **kw)
    assert message in str(info.value)
    assert info.value.code == "invalid_input"


def test_row_sum_tolerance_is_the_documented_one() -> None:
    p = GOOD_P.copy()
    p[0, 0] += ROW_SUM_ATOL / 2
    assert _score(p=p).n == 4
    p[0, 0] += ROW_SUM_ATOL
    with pytest.raises(ValidationError, match="rows must sum to 1"):
        _score(p=p)


def test_inputs_are_not_modified() -> None:
    p = GOOD_P.copy()
    _score(p=p)
    assert np.array_equal(p, GOOD_P)
