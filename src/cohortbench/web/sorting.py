"""Server-side sorting of the leaderboard (`?sort=column&order=asc|desc`): no JavaScript needed.

Missing values always sink to the bottom, whichever the direction, so a row without a
fine-tuned score never rises to the top of a descending sort.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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
#: columns whose natural first click is "best first" = descending
DESCENDING_FIRST = frozenset({"claimed", "baseline", "finetuned", "critical", "transfer"})


def sort_rows(
    rows: Sequence[LeaderboardRow], sort: str | None, order: str | None
) -> tuple[list[LeaderboardRow], str, bool]:
    """(sorted rows, the column used, descending?); unknown columns fall back to rank."""
    key = sort if sort in SORT_KEYS else "rank"
    descending = order == "desc" if order in ("asc", "desc") else key in DESCENDING_FIRST
    getter = SORT_KEYS[key]
    present = [r for r in rows if getter(r) is not None]
    missing = [r for r in rows if getter(r) is None]
    return sorted(present, key=getter, reverse=descending) + missing, key, descending


def sort_link(column: str, current: str, descending: bool) -> str:
    """The query string a column header links to: clicking the sorted column flips its direction."""
    if column == current:
        return f"?sort={column}&order={'asc' if descending else 'desc'}"
    return f"?sort={column}&order={'desc' if column in DESCENDING_FIRST else 'asc'}"
