"""Lossless dict/JSON round-trip for the scorer's frozen dataclasses, driven by their type hints.

One generic codec instead of hand-written to_dict/from_dict per class: adding a field to a
result cannot be forgotten in the serialiser. Floats go through json's repr, which round-trips
exactly; NaN and infinity are refused (undefined numbers are None in these schemas).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from typing import Any, Self, TypeVar

from cohortbench.errors import ValidationError

T = TypeVar("T")


def encode(value: Any) -> Any:
    """Dataclasses to dicts, tuples to lists, scalars as they are."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    return value


def _decode_union(hint: Any, args: tuple[Any, ...], value: Any, where: str) -> Any:
    if value is None:
        if type(None) in args:
            return None
        raise ValidationError(f"{where}: null is not allowed here ({hint})")
    options = [a for a in args if a is not type(None)]
    for option in options:
        try:
            return decode(option, value, where)
        except ValidationError:
            continue
    raise ValidationError(f"{where}: {value!r} matches none of {hint}")


def _decode_scalar(hint: Any, value: Any, where: str) -> Any:
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and type(value) is hint:
        return value
    raise ValidationError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")


def decode(hint: Any, value: Any, where: str = "$") -> Any:
    """Rebuild a value of type `hint` from its encoded form, checking types on the way."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _decode_union(hint, args, value, where)
    if origin is typing.Literal:
        if value in args:
            return value
        raise ValidationError(f"{where}: {value!r} is not one of {list(args)}")
    if origin is tuple:
        if not isinstance(value, list):
            raise ValidationError(f"{where}: expected a list, got {type(value).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ValidationError(f"{where}: expected {len(args)} items, got {len(value)}")
        return tuple(decode(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return decode_dataclass(hint, value, where)
    return _decode_scalar(hint, value, where)


@functools.cache
def _schema(cls: type) -> tuple[dict[str, Any], list[str], frozenset[str]]:
    """A dataclass's resolved type hints, field names and the names that have defaults, once per
    class: resolving the hints (string annotations) was two thirds of decoding a stored result."""
    fields = dataclasses.fields(cls)
    optional = frozenset(f.name for f in fields if f.default is not dataclasses.MISSING)
    return typing.get_type_hints(cls), [f.name for f in fields], optional


def decode_dataclass(cls: type[T], value: Any, where: str = "$") -> T:
    """Build dataclass `cls` from a dict; unknown or missing keys are errors, not ignored.

    A field with a default (one added in a later version) may be missing: results stored before it
    existed still load, with the default.
    """
    if not isinstance(value, dict):
        raise ValidationError(f"{where}: expected an object for {cls.__name__}, got {type(value).__name__}")
    hints, names, optional = _schema(typing.cast(type, cls))  # optional: fields added later
    unknown = sorted(set(value) - set(names))
    missing = [n for n in names if n not in value and n not in optional]
    if unknown or missing:
        raise ValidationError(f"{where}: {cls.__name__} has unknown keys {unknown} / missing keys {missing}")
    return cls(**{n: decode(hints[n], value[n], f"{where}.{n}") for n in names if n in value})


class Serializable:
    """Mixin: to_dict/from_dict/to_json/from_json for a frozen dataclass."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (lists for tuples, None for undefined numbers)."""
        out: dict[str, Any] = encode(self)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Inverse of to_dict; raises ValidationError naming the first bad field."""
        return decode_dataclass(cls, data)

    def to_json(self) -> str:
        """Compact, key-sorted JSON; raises ValueError if a NaN or infinity slipped in."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Inverse of to_json."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"not valid JSON: {exc}") from exc
        return cls.from_dict(data)
