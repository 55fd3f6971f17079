"""Legends and point markers: what tells the series apart, in colour and in grey-scale print."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cohortbench.web.charts._svg import INK, NA_STROKE, TICK_SIZE, Figure, el, label, num, text_width, tooltip

LEGEND_TOP = 44.0
LEGEND_ROW = 22.0
SHAPES = ("circle", "square", "diamond", "triangle")


@dataclass(frozen=True)
class Key:
    """One legend entry: how its swatch is drawn (box, hatch, line, dashed, whisker, marker)."""

    name: str
    colour: str
    kind: str = "box"
    shape: str = "circle"


def legend(fig: Figure, keys: Sequence[Key], *, top: float = LEGEND_TOP) -> float:
    """Legend entries in rows under the title; returns the y where the plot may start."""
    x, y = 16.0, top
    for key in keys:
        width = 30 + text_width(key.name, TICK_SIZE) + 14
        if x + width > fig.width - 12 and x > 16:
            x, y = 16.0, y + LEGEND_ROW
        fig.add(
            el(
                "g",
                {"class": "legend-item"},
                swatch(fig, key, x, y),
                label(x + 26, y, key.name, max_width=fig.width - x - 40, dy="0.35em"),
            )
        )
        x += min(width, fig.width)
    return y + 20.0


def swatch(fig: Figure, key: Key, x: float, y: float) -> str:
    """The small picture in front of a legend entry."""
    if key.kind in ("line", "dashed"):
        dash = "6 4" if key.kind == "dashed" else None
        line = el(
            "line",
            {
                "x1": x,
                "x2": x + 20,
                "y1": y,
                "y2": y,
                "stroke": key.colour,
                "stroke_width": 2.5,
                "stroke_dasharray": dash,
            },
        )
        return (
            line
            if key.kind == "dashed"
            else line + marker(key.shape, x + 10, y, 4.5, key.colour, cls="legend-marker")
        )
    if key.kind == "whisker":
        return el(
            "path",
            {
                "d": f"M{num(x + 10)} {num(y - 8)}V{num(y + 8)}M{num(x + 5)} {num(y - 8)}"
                f"H{num(x + 15)}M{num(x + 5)} {num(y + 8)}H{num(x + 15)}",
                "stroke": INK,
                "stroke_width": 1.5,
                "fill": "none",
            },
        )
    if key.kind == "marker":
        return marker(key.shape, x + 10, y, 5.0, key.colour, cls="legend-marker")
    fill = fig.hatch() if key.kind == "hatch" else key.colour
    stroke = NA_STROKE if key.kind == "hatch" else "none"
    return el(
        "rect", {"x": x + 2, "y": y - 7, "width": 16, "height": 14, "fill": fill, "stroke": stroke, "rx": 2}
    )


def marker(
    shape: str, x: float, y: float, r: float, colour: str, tip: str | None = None, *, cls: str = "point"
) -> str:
    """A point mark; distinct shapes per series keep series apart in grey-scale print."""
    attrs: dict[str, object] = {"class": cls, "fill": colour, "stroke": "#ffffff", "stroke_width": 1.2}
    kids = (tooltip(tip),) if tip else ()
    if shape == "square":
        return el(
            "rect", {**attrs, "x": x - r * 0.9, "y": y - r * 0.9, "width": r * 1.8, "height": r * 1.8}, *kids
        )
    if shape in ("diamond", "triangle"):
        pts = (
            [(x, y - r * 1.25), (x + r * 1.25, y), (x, y + r * 1.25), (x - r * 1.25, y)]
            if shape == "diamond"
            else [(x, y - r * 1.2), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8)]
        )
        return el("polygon", {**attrs, "points": " ".join(f"{num(a)},{num(b)}" for a, b in pts)}, *kids)
    return el("circle", {**attrs, "cx": x, "cy": y, "r": r}, *kids)
