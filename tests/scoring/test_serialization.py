"""Result, Comparison and Transfer round-trip through JSON losslessly, and bad JSON is refused."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cohortbench.errors import ValidationError
from cohortbench.scoring import SCHEMA_VERSION, PermutedPrediction, Result, compare, score, transfer
from scoring.holdouts import Holdout, holdouts

FINITE = st.floats(allow_nan=False, allow_infinity=False)
SCALARS = {float: FINITE, int: st.integers(-(2**53), 2**53), str: st.text(max_size=8), bool: st.booleans()}


def strategy_for(hint: Any) -> st.SearchStrategy[Any]:
    """Values of a type hint: finite floats (the schema's rule), short tuples, nested dataclasses."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*[strategy_for(a) for a in args])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is tuple:
        if args[-1] is Ellipsis:
            return st.lists(strategy_for(args[0]), max_size=3).map(tuple)
        return st.tuples(*[strategy_for(a) for a in args])
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        fields = {f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(hint)}
        if hint is Result:
            fields["schema_version"] = st.just(SCHEMA_VERSION)
        return st.builds(hint, **fields)
    if hint is type(None):
        return st.none()
    return SCALARS[hint]


@settings(max_examples=40, deadline=None)
@given(strategy_for(Result))
def test_any_result_round_trips(result: Result) -> None:
    assert Result.from_json(result.to_json()) == result
    assert Result.from_dict(json.loads(json.dumps(result.to_dict()))) == result


@settings(max_examples=25, deadline=None)
@given(holdouts(min_n=10))
def test_scored_results_round_trip(h: Holdout) -> None:
    rng = np.random.default_rng(0)
    permuted = [
        PermutedPrediction("group", "liver panel", r, h.proba[rng.permutation(h.y.size)]) for r in range(2)
    ]
    r = score(
        h.y, h.proba, classes=h.classes, critical_class=h.classes[-1], n_resamples=30, permuted=permuted
    )
    assert Result.from_json(r.to_json()) == r
    c = compare(h.y, h.proba, h.proba[::-1], classes=h.classes, critical_class=h.classes[-1], n_resamples=30)
    assert type(c).from_json(c.to_json()) == c
    t = transfer(
        baseline=r, finetune=r, claimed=0.8, y_true=h.y, baseline_proba=h.proba, finetune_proba=h.proba
    )
    assert type(t).from_json(t.to_json()) == t


def test_schema_version_and_unknown_keys_are_refused(dili: Holdout) -> None:
    data = score(dili.y, dili.proba, classes=dili.classes, critical_class="severe", n_resamples=10).to_dict()
    with pytest.raises(ValidationError, match="schema_version 99"):
        Result.from_dict(data | {"schema_version": 99})
    with pytest.raises(ValidationError, match="unknown keys \\['extra'\\]"):
        Result.from_dict(data | {"extra": 1})
    data["headline"]["macro_f1"]["value"] = "high"
    with pytest.raises(ValidationError, match=r"headline\.macro_f1\.value"):
        Result.from_dict(data)
    with pytest.raises(ValidationError, match="not valid JSON"):
        Result.from_json("{")


def test_non_finite_numbers_cannot_be_written(dili: Holdout) -> None:
    r = score(dili.y, dili.proba, classes=dili.classes, critical_class="severe", n_resamples=10)
    broken = Result.from_dict(r.to_dict() | {"confidence": 0.95})
    object.__setattr__(broken, "confidence", float("nan"))
    with pytest.raises(ValueError):
        broken.to_json()
