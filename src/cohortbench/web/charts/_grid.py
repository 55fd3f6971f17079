"""The cell grid shared by the confusion matrix and the heatmap: cells, their text and the labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cohortbench.web.charts._axes import Plot
from cohortbench.web.charts._svg import (
    LABEL_SIZE,
    NA_STROKE,
    TICK_SIZE,
    Figure,
    el,
    ink_on,
    label,
    num,
    text_width,
    tooltip,
)

MAX_LABEL = 180.0


@dataclass(frozen=True)
class Cell:
    """What one cell shows: fill colour (None: hatched n/a), main text, optional second line, tooltip."""

    colour: str | None
    text: str
    note: str
    tip: str


def row_label_width(names: Sequence[str]) -> float:
    return min(MAX_LABEL, max(text_width(n, TICK_SIZE) for n in names))


def column_depth(names: Sequence[str], cell: float) -> float:
    """Room needed under the grid for the column names (slanted when wider than a cell)."""
    widest = min(MAX_LABEL, max(text_width(n, TICK_SIZE) for n in names))
    return 26.0 if widest <= cell - 4 else 18.0 + widest * 0.72


def cells(fig: Figure, plot: Plot, grid: Sequence[Sequence[Cell]], cell: float) -> None:
    """Draw every cell of the grid, row by row."""
    size = max(11.0, min(15.0, cell * 0.3))
    for r, row in enumerate(grid):
        for c, item in enumerate(row):
            fig.add(_cell(fig, item, plot.left + c * cell, plot.top + r * cell, cell, size))


def _cell(fig: Figure, item: Cell, x: float, y: float, cell: float, size: float) -> str:
    """One cell: its colour (or hatching) and its text in black or white, whichever reads on it."""
    box = {"class": "cell", "x": x, "y": y, "width": cell, "height": cell}
    box |= {"fill": item.colour or fig.hatch(), "stroke": "#ffffff" if item.colour else NA_STROKE}
    parts = [tooltip(item.tip), el("rect", box)]
    ink = ink_on(item.colour) if item.colour else "#111111"
    centre, mid = y + cell / 2 - (size * 0.45 if item.note else 0), x + cell / 2
    if item.text:
        parts.append(_centred(mid, centre, item.text, size, ink, "cell-value"))
    if item.note:
        parts.append(_centred(mid, centre + size * 1.1, item.note, size - 2, ink, "cell-note"))
    return el("g", {"class": "cell-group"}, *parts)


def _centred(x: float, y: float, text: str, size: float, ink: str, cls: str) -> str:
    weight = 600 if cls == "cell-value" else None
    return label(
        x, y, text, size=size, text_anchor="middle", dy="0.35em", fill=ink, class_=cls, font_weight=weight
    )


def draw_row_labels(fig: Figure, plot: Plot, names: Sequence[str], cell: float, title: str) -> None:
    """Row names left of the grid and the rotated axis title beyond them."""
    for r, name in enumerate(names):
        fig.add(
            label(
                plot.left - 8,
                plot.top + (r + 0.5) * cell,
                name,
                max_width=MAX_LABEL,
                text_anchor="end",
                dy="0.35em",
                class_="tick-label",
            )
        )
    if title:
        x = plot.left - 26 - row_label_width(names)
        y = plot.top + plot.height / 2
        fig.add(
            label(
                x,
                y,
                title,
                size=LABEL_SIZE,
                class_="axis-label",
                text_anchor="middle",
                font_weight=600,
                transform=f"rotate(-90 {num(x)} {num(y)})",
            )
        )


def column_labels(fig: Figure, plot: Plot, names: Sequence[str], cell: float, title: str) -> float:
    """Column names under the grid (slanted if needed) and the axis title; returns the bottom y."""
    depth = column_depth(names, cell)
    for c, name in enumerate(names):
        x, y = plot.left + (c + 0.5) * cell, plot.bottom + 18
        if depth > 26.0:
            fig.add(
                label(
                    x + 4,
                    y - 4,
                    name,
                    max_width=MAX_LABEL,
                    text_anchor="end",
                    class_="tick-label",
                    transform=f"rotate(-45 {num(x + 4)} {num(y - 4)})",
                )
            )
        else:
            fig.add(label(x, y, name, text_anchor="middle", class_="tick-label"))
    if title:
        fig.add(
            label(
                plot.left + plot.width / 2,
                plot.bottom + depth + 20,
                title,
                size=LABEL_SIZE,
                class_="axis-label",
                text_anchor="middle",
                font_weight=600,
            )
        )
    return plot.bottom + depth + (34 if title else 10)
