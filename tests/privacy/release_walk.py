"""Helpers that walk an EdaRelease dict the way an attacker or an auditor would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def numbers(tree: Any) -> Iterator[float]:
    """Every number anywhere in a JSON-like tree (bools excluded)."""
    if isinstance(tree, dict):
        for value in tree.values():
            yield from numbers(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from numbers(value)
    elif isinstance(tree, int | float) and not isinstance(tree, bool):
        yield float(tree)


def counts(release: dict[str, Any]) -> Iterator[float]:
    """Every released count: class cells and total, cohort records/missing, per-feature n, histogram bins."""
    table = release["class_distribution"]
    for cell in [*table["cells"].values(), table["total"]]:
        if cell["value"] is not None:
            yield cell["value"]
    for key in ("records", "missing_values"):
        if release["cohort"][key]["value"] is not None:
            yield release["cohort"][key]["value"]
    for by_class in release["summaries"].values():
        for summary in by_class.values():
            if summary["n"]["value"] is not None:
                yield summary["n"]["value"]
    for hist in release["histograms"].values():
        yield from hist["counts"]


def feature_values(release: dict[str, Any], feature: str) -> dict[str, list[float]]:
    """Non-count numbers released about one feature, per group: "all" (histogram edges) and each class."""
    out = {
        cls: [stat["value"] for key, stat in summary.items() if key != "n" and stat["value"] is not None]
        for cls, summary in release["summaries"][feature].items()
    }
    out["all"] = [e for e in release["histograms"][feature]["edges"] if e is not None]
    return out
