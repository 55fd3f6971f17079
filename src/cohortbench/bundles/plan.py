"""The training plan of a finetune run, validated field by field so a contributor sees every mistake at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from cohortbench.errors import ValidationError

OPTIMIZERS = ("adam", "sgd", "adamw")
CLASS_WEIGHTS = ("balanced",)
MAX_EPOCHS = 10_000
MAX_BATCH_SIZE = 1_000_000


@dataclass(frozen=True)
class Plan:
    """Epochs (boosting rounds for gradient boosting), optimizer settings, seed, and regularisation."""

    epochs: int = 20
    learning_rate: float = 1e-3
    batch_size: int = 64
    seed: int = 0
    optimizer: str = "adam"
    early_stopping_patience: int | None = None
    class_weight: str | None = None
    validation_fraction: float = 0.0
    weight_decay: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "plan") -> Plan:
        """Build a plan from a TOML/JSON table; raise one ValidationError listing every bad field."""
        problems = plan_problems(data, where=where)
        if problems:
            raise ValidationError("; ".join(problems), code="invalid_bundle")
        values: dict[str, Any] = {
            k: (float(v) if k in _FLOAT_FIELDS and v is not None else v) for k, v in data.items()
        }
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (None values dropped, since TOML has no null)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


_FLOAT_FIELDS = frozenset({"learning_rate", "validation_fraction", "weight_decay"})


def _int_in(lo: int, hi: int) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int):
            return f"must be an integer, got {type(v).__name__}"
        return None if lo <= v <= hi else f"must be between {lo} and {hi}, got {v}"

    return check


def _float_in(lo: float, hi: float, *, open_low: bool = False) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int | float):
            return f"must be a number, got {type(v).__name__}"
        ok = (lo < v if open_low else lo <= v) and v <= hi
        bracket = "(" if open_low else "["
        return None if ok else f"must be in {bracket}{lo}, {hi}], got {v}"

    return check


def _one_of(options: tuple[str, ...], *, optional: bool = False) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if v is None and optional:
            return None
        return None if v in options else f"must be one of {', '.join(options)}, got {v!r}"

    return check


def _optional(inner: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    return lambda v: None if v is None else inner(v)


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "epochs": _int_in(1, MAX_EPOCHS),
    "learning_rate": _float_in(0.0, 10.0, open_low=True),
    "batch_size": _int_in(1, MAX_BATCH_SIZE),
    "seed": _int_in(0, 2**32 - 1),
    "optimizer": _one_of(OPTIMIZERS),
    "early_stopping_patience": _optional(_int_in(1, MAX_EPOCHS)),
    "class_weight": _one_of(CLASS_WEIGHTS, optional=True),
    "validation_fraction": _float_in(0.0, 0.5),
    "weight_decay": _float_in(0.0, 1.0),
}
assert set(_CHECKS) == {f.name for f in fields(Plan)}


def plan_problems(data: Any, *, where: str = "plan") -> list[str]:
    """Every problem of a plan table, each naming its field (e.g. 'plan.epochs: must be ...')."""
    if not isinstance(data, Mapping):
        return [f"{where}: must be a table, got {type(data).__name__}"]
    problems = [
        f"{where}.{key}: unknown field (known: {', '.join(_CHECKS)})" for key in data if key not in _CHECKS
    ]
    for key, value in data.items():
        message = _CHECKS[key](value) if key in _CHECKS else None
        if message:
            problems.append(f"{where}.{key}: {message}")
    return problems
