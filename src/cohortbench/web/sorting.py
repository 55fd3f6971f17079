"""Server-side sorting of the leaderboard (`?sort=column&order=asc|desc`): no JavaScript needed.

Missing values always sink to the bottom, whichever the direction, so a row without a
fine-tuned score never rises to the top of a descending sort. A column that shows a metric is first
sorted best-first, the direction read from the metric registry (scoring/registry.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cohortbench.scoring.registry import get_metric
from cohortbench.service.public import LeaderboardRowOut as LeaderboardRow

SORT_KEYS: dict[str, Callable[[LeaderboardRow], Any]] = {
    "rank": lambda r: r.rank,
    "contributor": lambda r: r.contributor.lower(),
    "model": lambda r: r.model.lower(),
    "claimed": lambda r: r.claimed,
    "baseline": lambda r: r.baseline.value if r.baseline else None,
    "finetuned": lambda r: r.finetuned.value if r.finetuned else None,
    "critical": lambda r: r.critical_recall.value if r.critical_recall else None,
    "transfer": lambda r: r.transfer_ratio,
    "ece": lambda r: r.ece,
    "compute": lambda r: r.compute_pflop,
}
#: the registered metric each metric column shows; None: the workspace's primary metric (its claim,
#: its scores, and their transfer ratio, which is better the way the metric is)
METRIC_COLUMNS: dict[str, str | None] = {
    "claimed": None,
    "baseline": None,
    "finetuned": None,
    "transfer": None,
    "critical": "critical_recall",
    "ece": "ece",
}


def descending_first(column: str, metric: str) -> bool:
    """Whether the natural first click on `column` is "best first" = descending, by the registry."""
    if column not in METRIC_COLUMNS:
        return False
    return get_metric(METRIC_COLUMNS[column] or metric).greater_is_better


def sort_rows(
    rows: Sequence[LeaderboardRow], sort: str | None, order: str | None, metric: str
) -> tuple[list[LeaderboardRow], str, bool]:
    """(sorted rows, the column used, descending?) on a board of `metric`; unknown columns: rank."""
    key = sort if sort in SORT_KEYS else "rank"
    descending = order == "desc" if order in ("asc", "desc") else descending_first(key, metric)
    getter = SORT_KEYS[key]
    present = [r for r in rows if getter(r) is not None]
    missing = [r for r in rows if getter(r) is None]
    return sorted(present, key=getter, reverse=descending) + missing, key, descending


def sort_link(column: str, current: str, descending: bool, metric: str) -> str:
    """The query string a column header links to: clicking the sorted column flips its direction."""
    if column == current:
        return f"?sort={column}&order={'asc' if descending else 'desc'}"
    return f"?sort={column}&order={'desc' if descending_first(column, metric) else 'asc'}"
