"""What may be said about a categorical column: its public levels and protected per-class counts.

A level held by fewer than `min_cell` records is never named: such levels are merged into one
OTHER level, whose small counts are suppressed like any other. Per-class counts of the levels form a table whose
class columns sum, with the missing values, to the released class counts; it is protected like
`protect_counts` protects one row, along both its level rows and its class columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cohortbench.privacy.cells import CountTable
from cohortbench.privacy.released import (
    EXACT,
    MIN_CELL,
    SUPPRESSED,
    SUPPRESSED_COMPLEMENT,
    Released,
    is_small_count,
)

OTHER = "other"
"""The one level that stands for every level held by fewer than `min_cell` records."""


def public_levels(column: pd.Series, *, min_cell: int = MIN_CELL) -> tuple[tuple[str, ...], bool]:
    """(levels that may be named, whether an OTHER level holds the rest), in the column's level order.

    A level is public when at least `min_cell` records hold it; the rarer ones go to OTHER. OTHER
    may itself hold fewer than `min_cell` records: its counts and shares are then suppressed (with
    a complement) like any small cell.
    """
    values = column.astype(str).where(column.notna())
    counts = values.value_counts()
    order = (
        [str(c) for c in column.cat.categories]
        if isinstance(column.dtype, pd.CategoricalDtype)
        else sorted(str(v) for v in counts.index)
    )
    public = [c for c in order if int(counts.get(c, 0)) >= min_cell and c != OTHER]
    other = int(sum(int(counts.get(c, 0)) for c in order if c not in public))
    return tuple(public), other > 0


def merged(column: pd.Series, levels: Sequence[str]) -> pd.Series:
    """The column's values as text, every non-public level replaced by OTHER (missing stays None)."""
    mask = column.notna().to_numpy()
    text = pd.Series([None] * len(column), index=column.index, dtype=object)
    text[mask] = column[mask].astype(str).to_numpy()
    return text.where(~mask | text.isin(list(levels)), OTHER)


@dataclass(frozen=True)
class CategoryTable:
    """Per public level (and OTHER), the protected count of each class."""

    levels: dict[str, CountTable]

    def to_dict(self) -> dict[str, Any]:
        return {"levels": {k: v.to_dict() for k, v in self.levels.items()}}


def protect_table(
    counts: Mapping[str, Mapping[str, int]],
    *,
    column_sums: Mapping[str, int | None],
    min_cell: int = MIN_CELL,
) -> CategoryTable:
    """Protect a level x class table of counts along its rows and its derivable class columns.

    A class in `column_sums` has a derivable column sum (its count and missing count released);
    its value is the count of a suppressed cell outside the table that shares that sum (the
    class's suppressed missing values), or None. Row sums count as known too (the schema twin
    releases level shares). Cells are hidden until every such line is safe: no hidden cell, or
    hidden cells (outside ones included) at least two and together 0 or at least `min_cell`; a
    line that cannot get there loses all its cells.
    """
    hidden: set[tuple[str, str]] = {
        (lvl, c) for lvl, row in counts.items() for c, n in row.items() if is_small_count(n, min_cell)
    }
    primary = set(hidden)
    lines: list[tuple[dict[tuple[str, str], int], int | None]] = [
        ({(lvl, c): int(n) for c, n in row.items()}, None) for lvl, row in counts.items()
    ]
    lines += [
        ({(lvl, c): int(counts[lvl][c]) for lvl in counts}, outside) for c, outside in column_sums.items()
    ]
    while any([_settle(hidden, line, outside, min_cell) for line, outside in lines]):
        pass
    levels = {}
    for lvl, row in counts.items():
        cells = {
            c: Released(None, SUPPRESSED if (lvl, c) in primary else SUPPRESSED_COMPLEMENT)
            if (lvl, c) in hidden
            else Released(int(n), EXACT)
            for c, n in row.items()
        }
        levels[lvl] = CountTable(cells, Released(None, SUPPRESSED_COMPLEMENT))
    return CategoryTable(levels)


def _settle(
    hidden: set[tuple[str, str]], line: Mapping[tuple[str, str], int], outside: int | None, min_cell: int
) -> bool:
    """Hide cells of one line until it is safe (see `protect_table`); True if it hid any."""
    changed = False
    while True:
        in_line = [k for k in line if k in hidden]
        n_hidden = len(in_line) + (outside is not None)
        total = sum(line[k] for k in in_line) + (outside or 0)
        if n_hidden == 0 or total == 0 or (n_hidden >= 2 and total >= min_cell):
            return changed
        candidates = [k for k, n in line.items() if k not in hidden and n > 0]
        if not candidates:
            rest = [k for k in line if k not in hidden]
            hidden.update(rest)
            return changed or bool(rest)
        hidden.add(min(candidates, key=lambda k: (line[k], k)))
        changed = True


def category_tables(
    frame: pd.DataFrame,
    labels: pd.Series,
    columns: Sequence[str],
    classes: CountTable,
    missing: Mapping[str, CountTable],
    *,
    min_cell: int = MIN_CELL,
) -> dict[str, CategoryTable]:
    """Per categorical column, the protected per-class counts of its public levels (and OTHER)."""
    out = {}
    class_list = list(classes.cells)
    for column in columns:
        levels, has_other = public_levels(frame[column], min_cell=min_cell)
        values = merged(frame[column], levels)
        names = [*levels, *([OTHER] if has_other else [])]
        if not names:
            continue
        counts = {lvl: {c: int(((values == lvl) & (labels == c)).sum()) for c in class_list} for lvl in names}
        sums: dict[str, int | None] = {}
        for c in class_list:
            cell = missing[column].cells[c] if column in missing else Released(0, EXACT)
            if classes.cells[c].shown:
                isna = frame.loc[(labels == c).to_numpy(), column].isna()
                sums[c] = None if cell.shown else int(isna.sum())
        out[str(column)] = protect_table(counts, column_sums=sums, min_cell=min_cell)
    return out
