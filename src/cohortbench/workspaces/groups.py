"""Feature groups of a workspace: given by the owner (names or column prefixes), or derived from
column-name prefixes.

Groups drive the EDA overview, grouped permutation importance and what a contributor learns of it
(the top groups, privacy.channels). Every feature belongs to exactly one group, in the table's order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cohortbench.errors import ValidationError

OTHER = "other"
"""The group of the features that no prefix (or no owner-given group) claims."""


def prefix_of(column: str) -> str | None:
    """The part of a column name before its first `_` (`ast_u_l` -> `ast`); None without one."""
    head, sep, tail = column.partition("_")
    return head if sep and head and tail else None


def groups_by_prefix(features: Sequence[str]) -> dict[str, list[str]]:
    """One group per prefix shared by two or more columns (`ast_`, `alt_` ...), the rest in `other`;
    one group per feature when no prefix is shared, so importance is then per feature."""
    by_prefix: dict[str, list[str]] = {}
    for f in features:
        p = prefix_of(f)
        if p is not None:
            by_prefix.setdefault(p, []).append(f)
    shared = {p: cols for p, cols in by_prefix.items() if len(cols) >= 2}
    if not shared:
        return {f: [f] for f in features}
    claimed = {f for cols in shared.values() for f in cols}
    rest = [f for f in features if f not in claimed]
    return {**shared, **({OTHER: rest} if rest else {})}


def groups_from_spec(spec: Mapping[str, Any], features: Sequence[str]) -> dict[str, list[str]]:
    """Groups from an owner's spec (a groups.toml's table): `name = ["col", ...]` lists columns,
    `name = { prefix = "ast_" }` takes the columns starting with the prefix that no list names.
    A column listed twice, an unknown column or an empty group is an error that names it; the
    columns no group claims go to `other`. Groups keep the spec's order, columns the table's."""
    table = spec.get("groups", spec)
    if not isinstance(table, Mapping) or not table:
        raise ValidationError(
            "feature groups: expected a table of group = [columns] or group = { prefix = ... }"
        )
    entries = {str(name): _entry(str(name), entry) for name, entry in table.items()}
    owner: dict[str, str] = {}
    known = set(features)
    for name, (kind, value) in entries.items():
        if kind == "names":
            unknown = [c for c in value if c not in known]
            if unknown:
                raise ValidationError(
                    f"feature group {name!r} names unknown columns: {', '.join(unknown[:5])}"
                )
            for c in value:
                if c in owner:
                    raise ValidationError(f"column {c!r} is in two feature groups: {owner[c]!r} and {name!r}")
                owner[c] = name
    for name, (kind, value) in entries.items():
        if kind == "prefix":
            for c in features:
                if c.startswith(value[0]) and c not in owner:
                    owner[c] = name
    groups: dict[str, list[str]] = {name: [c for c in features if owner.get(c) == name] for name in entries}
    empty = [g for g, cols in groups.items() if not cols]
    if empty:
        raise ValidationError(f"feature group {empty[0]!r} has no columns")
    rest = [f for f in features if f not in owner]
    if rest:
        if OTHER in groups:
            raise ValidationError(
                f"group {OTHER!r} is reserved for the unclaimed columns: {', '.join(rest[:5])}"
            )
        groups[OTHER] = rest
    return groups


def _entry(name: str, entry: Any) -> tuple[str, list[str]]:
    """("names", columns) or ("prefix", [prefix])."""
    if isinstance(entry, list) and all(isinstance(c, str) for c in entry):
        return "names", list(entry)
    if isinstance(entry, Mapping) and set(entry) == {"prefix"} and isinstance(entry["prefix"], str):
        if not entry["prefix"]:
            raise ValidationError(f"feature group {name!r}: the prefix is empty")
        return "prefix", [entry["prefix"]]
    raise ValidationError(
        f'feature group {name!r}: expected a list of column names or {{ prefix = "..." }}, got {entry!r}'
    )
