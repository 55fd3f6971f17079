"""Plan: defaults, round trip, and one clear message per bad field."""

from __future__ import annotations

import pytest

from cohortbench.bundles import Plan
from cohortbench.errors import ValidationError


def test_defaults_suit_fine_tuning() -> None:
    plan = Plan()
    assert (plan.epochs, plan.learning_rate, plan.batch_size, plan.seed) == (20, 1e-3, 64, 0)
    assert plan.optimizer == "adam" and plan.early_stopping_patience is None


def test_round_trip_through_dict() -> None:
    plan = Plan(epochs=5, optimizer="sgd", class_weight="balanced", early_stopping_patience=2)
    assert Plan.from_dict(plan.to_dict()) == plan


def test_int_accepted_for_float_fields() -> None:
    assert Plan.from_dict({"learning_rate": 1}).learning_rate == 1.0


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("epochs", 0, "between 1"),
        ("epochs", 2.5, "integer"),
        ("epochs", True, "integer"),
        ("learning_rate", 0, "(0.0"),
        ("learning_rate", "fast", "number"),
        ("batch_size", -1, "between 1"),
        ("seed", -3, "between 0"),
        ("optimizer", "rmsprop", "adam, sgd, adamw"),
        ("early_stopping_patience", 0, "between 1"),
        ("class_weight", "inverse", "balanced"),
        ("validation_fraction", 0.9, "[0.0, 0.5]"),
        ("weight_decay", -0.1, "[0.0, 1.0]"),
        ("momentum", 0.9, "unknown field"),
    ],
)
def test_bad_field_is_named(field: str, value: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        Plan.from_dict({field: value})
    assert f"plan.{field}:" in info.value.message and fragment in info.value.message


def test_every_bad_field_reported_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        Plan.from_dict({"epochs": 0, "optimizer": "x", "seed": -1})
    assert all(f"plan.{f}" in info.value.message for f in ("epochs", "optimizer", "seed"))
