"""Axes, grid lines, category labels and the "No data" chart shared by every chart type."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cohortbench.web.charts._svg import (
    AXIS,
    GRID,
    LABEL_SIZE,
    MUTED,
    TICK_SIZE,
    Figure,
    Svg,
    digest,
    el,
    label,
    num,
    text_width,
)


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
    x = plot.left - 22 - widest
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
