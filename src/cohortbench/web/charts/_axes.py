"""Axes, grid lines, legends, markers and the "No data" chart shared by every chart type."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cohortbench.web.charts._svg import (
    AXIS,
    GRID,
    INK,
    LABEL_SIZE,
    MUTED,
    NA_STROKE,
    TICK_SIZE,
    Figure,
    Svg,
    digest,
    el,
    label,
    num,
    text_width,
    tooltip,
)

LEGEND_TOP = 44.0
LEGEND_ROW = 22.0
SHAPES = ("circle", "square", "diamond", "triangle")


@dataclass(frozen=True)
class Plot:
    """The data area of a chart, in SVG user units."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass(frozen=True)
class Key:
    """One legend entry: how its swatch is drawn (box, hatch, line, dashed, whisker, marker)."""

    name: str
    colour: str
    kind: str = "box"
    shape: str = "circle"


def y_axis(
    fig: Figure,
    plot: Plot,
    scale: Callable[[float], float],
    marks: Sequence[float],
    names: Sequence[str],
    title: str,
) -> None:
    """Horizontal grid lines, tick labels left of the plot and the rotated axis title."""
    for value, name in zip(marks, names, strict=True):
        y = scale(value)
        fig.add(
            el(
                "line",
                {
                    "class": "grid",
                    "x1": plot.left,
                    "x2": plot.right,
                    "y1": y,
                    "y2": y,
                    "stroke": GRID,
                    "stroke_width": 1.0,
                },
            )
        )
        fig.add(label(plot.left - 8, y, name, text_anchor="end", dy="0.35em", class_="tick-label"))
    widest = max((text_width(n, TICK_SIZE) for n in names), default=0.0)
    x = plot.left - 16 - widest
    fig.add(
        label(
            x,
            plot.top + plot.height / 2,
            title,
            size=LABEL_SIZE,
            max_width=plot.height,
            class_="axis-label",
            text_anchor="middle",
            font_weight=600,
            transform=f"rotate(-90 {num(x)} {num(plot.top + plot.height / 2)})",
        )
    )


def x_axis(
    fig: Figure,
    plot: Plot,
    scale: Callable[[float], float],
    marks: Sequence[float],
    names: Sequence[str],
    title: str,
    *,
    grid: bool = True,
) -> None:
    """Tick labels under the plot, optional vertical grid lines and the axis title."""
    for value, name in zip(marks, names, strict=True):
        x = scale(value)
        if grid:
            fig.add(
                el(
                    "line",
                    {
                        "class": "grid",
                        "x1": x,
                        "x2": x,
                        "y1": plot.top,
                        "y2": plot.bottom,
                        "stroke": GRID,
                        "stroke_width": 1.0,
                    },
                )
            )
        fig.add(el("line", {"x1": x, "x2": x, "y1": plot.bottom, "y2": plot.bottom + 5, "stroke": AXIS}))
        fig.add(label(x, plot.bottom + 20, name, text_anchor="middle", class_="tick-label"))
    x_title(fig, plot, title, plot.bottom + 46)


def x_title(fig: Figure, plot: Plot, title: str, y: float) -> None:
    """The horizontal axis title, centred under the plot."""
    fig.add(
        label(
            plot.left + plot.width / 2,
            y,
            title,
            size=LABEL_SIZE,
            max_width=plot.width + 40,
            class_="axis-label",
            text_anchor="middle",
            font_weight=600,
        )
    )


def baseline(fig: Figure, plot: Plot, y: float) -> None:
    """The darker zero line that bars stand on."""
    fig.add(
        el(
            "line",
            {
                "class": "axis",
                "x1": plot.left,
                "x2": plot.right,
                "y1": y,
                "y2": y,
                "stroke": AXIS,
                "stroke_width": 1.5,
            },
        )
    )


def slanted(names: Sequence[str], band: float) -> bool:
    """Whether category names would collide if written horizontally in bands of this width."""
    return any(text_width(n, TICK_SIZE) > band - 6 for n in names)


def category_depth(names: Sequence[str], band: float) -> float:
    """Vertical room the category names take under the plot."""
    if not slanted(names, band):
        return 28.0
    return 24.0 + 0.58 * min(130.0, max(text_width(n, TICK_SIZE) for n in names))


def category_labels(
    fig: Figure, plot: Plot, centres: Sequence[float], names: Sequence[str], band: float
) -> None:
    """Category names under the plot, slanted when they would collide."""
    slant = slanted(names, band)
    for x, name in zip(centres, names, strict=True):
        if slant:
            y = plot.bottom + 16
            fig.add(
                label(
                    x + 4,
                    y,
                    name,
                    max_width=130,
                    text_anchor="end",
                    class_="tick-label",
                    transform=f"rotate(-35 {num(x + 4)} {num(y)})",
                )
            )
        else:
            fig.add(label(x, plot.bottom + 20, name, text_anchor="middle", class_="tick-label"))


def legend(fig: Figure, keys: Sequence[Key], *, top: float = LEGEND_TOP) -> float:
    """Legend entries in rows under the title; returns the y where the plot may start."""
    x, y = 16.0, top
    for key in keys:
        width = 30 + text_width(key.name, TICK_SIZE) + 18
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


def no_data(kind: str, title: str, message: str = "No data") -> Svg:
    """A small chart that says there is nothing to draw, instead of an empty or broken image."""
    fig = Figure(kind, title, f"{title}: {message.lower()}.", 480.0, 200.0, digest(kind, title, message))
    fig.add(
        el(
            "rect",
            {"x": 16, "y": 44, "width": 448, "height": 140, "fill": "#fafafa", "stroke": GRID, "rx": 6},
        )
    )
    fig.add(label(240.0, 120.0, message, size=LABEL_SIZE, class_="no-data", text_anchor="middle", fill=MUTED))
    return fig.render()
