"""Small-cell protection for a table of counts, including complementary suppression.

Suppressing a cell of 7 is useless if the total is shown and every other cell is too: the 7
comes back as total minus the shown cells. So suppression continues until the suppressed cells
together hold 0 or at least `min_cell` records and no single suppressed cell stands alone;
when that cannot be reached the total is suppressed as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cohortbench.errors import ValidationError
from cohortbench.privacy.released import (
    EXACT,
    MIN_CELL,
    SUPPRESSED,
    SUPPRESSED_COMPLEMENT,
    Released,
    is_small_count,
)


@dataclass(frozen=True)
class CountTable:
    """Released cells (in the order given) and the released total."""

    cells: dict[str, Released]
    total: Released

    def to_dict(self) -> dict[str, Any]:
        return {"cells": {k: v.to_dict() for k, v in self.cells.items()}, "total": self.total.to_dict()}

    def shown_counts(self) -> dict[str, int]:
        """The cells that are shown, as plain ints."""
        return {k: int(v.value) for k, v in self.cells.items() if v.value is not None}


def _complement_choice(counts: Mapping[str, int], hidden: set[str]) -> str | None:
    """The smallest shown cell with records: hiding it protects the hidden ones best at least cost."""
    candidates = [k for k, c in counts.items() if k not in hidden and c > 0]
    return min(candidates, key=lambda k: (counts[k], k)) if candidates else None


def _hidden_cells(counts: Mapping[str, int], min_cell: int) -> tuple[set[str], bool]:
    """Cells to suppress and whether the total can still be shown."""
    hidden = {k for k, c in counts.items() if is_small_count(c, min_cell)}
    while hidden:
        hidden_sum = sum(counts[k] for k in hidden)
        if len(hidden) >= 2 and hidden_sum >= min_cell:
            return hidden, True
        extra = _complement_choice(counts, hidden)
        if extra is None:
            return hidden, False
        hidden.add(extra)
    return hidden, True


def protect_counts(counts: Mapping[str, int], *, min_cell: int = MIN_CELL) -> CountTable:
    """Release a table of counts so that no count in 1..min_cell-1 is shown or derivable from the total."""
    if any(int(c) != c or c < 0 for c in counts.values()):
        raise ValidationError("counts must be non-negative integers")
    hidden, total_shown = _hidden_cells(counts, min_cell)
    primary = {k for k, c in counts.items() if is_small_count(c, min_cell)}
    cells = {
        k: Released(None, SUPPRESSED if k in primary else SUPPRESSED_COMPLEMENT)
        if k in hidden
        else Released(int(c), EXACT)
        for k, c in counts.items()
    }
    total = sum(int(c) for c in counts.values())
    if not total_shown or is_small_count(total, min_cell):
        return CountTable(cells, Released(None, SUPPRESSED_COMPLEMENT))
    return CountTable(cells, Released(total, EXACT))
