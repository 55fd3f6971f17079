"""The channel budget: computed from the release rules themselves, at most 128 bits per submission."""

from __future__ import annotations

import math
import typing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from cohortbench.cohorts.spec import DILI, NEUROMUSCULAR
from cohortbench.privacy.channels import (
    BUDGET_BITS,
    COMPUTE_LEVELS,
    ReleasePolicy,
    budget_table,
    channel_budget,
    class_score_step,
    coarsen_compute,
    loss_trend,
    total_bits,
)
from cohortbench.privacy.leaderboard import release_step
from cohortbench.sandbox import ERROR_CODES
from cohortbench.sandbox.error_json import public_exc_type
from cohortbench.service import public
from cohortbench.service.release import FIXED, RELEASED_FIELDS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"
RUN_STATES = len(ERROR_CODES) + 2


def _policy(n: int, classes: int, groups: int, *, ladder: bool = False) -> ReleasePolicy:
    return ReleasePolicy.for_workspace(
        n_holdout=n,
        classes=[str(i) for i in range(classes)],
        n_groups=groups,
        run_states=RUN_STATES,
        ladder=ladder,
    )


@pytest.mark.parametrize("ladder", [False, True])
@pytest.mark.parametrize(("spec", "n_holdout"), [(DILI, 320), (NEUROMUSCULAR, 128)])
def test_reference_workspaces_fit_the_budget_at_the_holdout_step(
    spec: typing.Any, n_holdout: int, ladder: bool
) -> None:
    policy = _policy(n_holdout, len(spec.classes), len(spec.feature_groups), ladder=ladder)
    assert total_bits(channel_budget(policy)) <= BUDGET_BITS
    assert policy.score_step == release_step(n_holdout)  # the budget did not have to coarsen the scores
    assert policy.top_groups == 3


def test_a_finer_rounding_or_another_number_would_break_the_budget() -> None:
    """The budget is tight enough to mean something: a finer grid, or a few more scores, exceed it."""
    policy = _policy(320, 4, 5)
    finer = ReleasePolicy(**{**policy.__dict__, "score_step": 0.01})
    assert total_bits(channel_budget(finer)) > BUDGET_BITS
    one_more_score_per_phase = 2 * math.log2(policy.score_values)
    assert total_bits(channel_budget(policy)) + one_more_score_per_phase > BUDGET_BITS


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(20, 200_000),
    classes=st.integers(2, 12),
    groups=st.integers(0, 300),
    ladder=st.booleans(),
)
def test_every_workspace_gets_a_policy_within_the_budget(
    n: int, classes: int, groups: int, ladder: bool
) -> None:
    policy = _policy(n, classes, groups, ladder=ladder)
    assert total_bits(channel_budget(policy)) <= BUDGET_BITS
    assert policy.score_step >= release_step(n) * (1 - 1e-9)


def _leaves(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def _nested(annotation: typing.Any) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.add(annotation)
    for arg in typing.get_args(annotation):
        found |= _nested(arg)
    return found


def _public_models() -> set[type[BaseModel]]:
    """Every model a contributor can receive, following nested fields from the route models."""
    todo = [
        public.SubmissionPublic,
        public.SubmissionSummary,
        public.LeaderboardOut,
        public.WorkspaceCardOut,
        public.CohortVersionList,
    ]
    seen: set[type[BaseModel]] = set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for field in model.model_fields.values():
            todo += list(_nested(field.annotation))
    return seen


def test_every_public_field_is_itemized_in_the_budget() -> None:
    """A new field in a contributor's model fails here until release.RELEASED_FIELDS says its channel."""
    channels = {item.name for item in channel_budget(_policy(320, 4, 5))}
    models = _public_models()
    assert {m.__name__ for m in models} == set(RELEASED_FIELDS)
    for model in models:
        declared = RELEASED_FIELDS[model.__name__]
        assert _leaves(model) == set(declared), model.__name__
        assert set(declared.values()) <= channels | {FIXED}, model.__name__


def test_the_owner_models_are_not_reachable_from_a_public_model() -> None:
    assert public.SubmissionOwner not in _public_models()
    assert public.ErrorOwner not in _public_models() and public.RunOwner not in _public_models()


def test_docs_carry_the_itemized_table_of_the_dili_workspace() -> None:
    table = budget_table(channel_budget(_policy(320, len(DILI.classes), len(DILI.feature_groups))))
    assert table in DOCS.read_text()


def test_one_patient_never_moves_a_released_recall() -> None:
    """The one-row label probe: a single case is less than half a step of its class's grid."""
    for support in range(11, 2000):
        step = class_score_step(support, 0.05)
        assert step is not None and 1 / support < step / 2, support
    assert class_score_step(10, 0.05) is None and class_score_step(None, 0.05) is None


def test_compute_is_released_on_twentieths_of_the_budget_rounded_up() -> None:
    budget = 100.0
    values = {coarsen_compute(x / 7.3, budget) for x in range(0, 2000)}
    assert len(values) <= COMPUTE_LEVELS + 2
    assert coarsen_compute(0.01, budget) == 5.0 and coarsen_compute(5.0, budget) == 5.0
    assert coarsen_compute(1e25, budget) == coarsen_compute(1e9, budget)
    assert coarsen_compute(math.nan, budget) == 0.0


def test_loss_trend_flags_a_diverging_fine_tune() -> None:
    lightgbm_at_lr_0_1 = [0.567, 0.355, 0.603, 1.308, 1.08, 0.924, 0.538, 0.317, 1.885, 0.859]
    assert loss_trend(lightgbm_at_lr_0_1) == "unstable"
    assert loss_trend([1.0, 0.8, 0.6, 0.5, 0.45]) == "falling"
    assert loss_trend([0.5, 0.5, 0.5]) == "flat"
    assert loss_trend([0.3, 0.5, 0.9]) == "rising"
    assert loss_trend([]) == "none" and loss_trend([1.0, math.nan]) == "unstable"


def test_exception_names_come_from_the_allow_list_only() -> None:
    assert public_exc_type(["E731624", "Exception", "BaseException", "object"]) is None
    assert public_exc_type(["BudgetExceededError", "CohortbenchError", "Exception"]) is None
    assert public_exc_type(["MyError", "ValueError", "Exception"]) == "ValueError"
    assert public_exc_type(["XGBoostError", "ValueError"]) == "XGBoostError"
