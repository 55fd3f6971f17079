"""Confusion matrices (sequential shading by row share) and correlation heatmaps (diverging, with colour bar)."""

from __future__ import annotations

from collections.abc import Sequence

from cohortbench.errors import ValidationError
from cohortbench.web.charts._axes import Plot, no_data
from cohortbench.web.charts._data import as_labels, table
from cohortbench.web.charts._grid import (
    Cell,
    cells,
    column_depth,
    column_labels,
    draw_row_labels,
    row_label_width,
)
from cohortbench.web.charts._scale import fmt_tick, fmt_value, nice_step, ticks
from cohortbench.web.charts._svg import (
    AXIS,
    LABEL_SIZE,
    MUTED,
    TICK_SIZE,
    Figure,
    Svg,
    digest,
    el,
    label,
    mix,
    num,
    summary,
    text_width,
)

BLUES = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
# ColorBrewer RdBu: a diverging ramp that stays readable with red-green colour blindness.
RED_BLUE = ("#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b")


def confusion_matrix_chart(
    matrix: Sequence[Sequence[int]],
    classes: Sequence[str],
    *,
    title: str,
    normalize: bool = False,
    desc: str | None = None,
) -> Svg:
    """Counts[true][predicted] as a grid; shade = share of the true class, so rare classes show.

    With `normalize`, cells show the row share (recall on the diagonal) with the count beneath.
    """
    names = as_labels(classes)
    if not names:
        return no_data("confusion", title)
    grid = table(matrix, "matrix", (len(names), len(names)))
    if any(v is None or v < 0 or v != int(v) for row in grid for v in row):
        raise ValidationError("confusion matrix cells must be non-negative whole counts")
    counts = [[int(v or 0) for v in row] for row in grid]
    text = desc or summary(
        f"Confusion matrix, rows true class, columns predicted class ({', '.join(names)}). "
        + " ".join(f"True {n}: {', '.join(map(str, row))}." for n, row in zip(names, counts, strict=True))
    )
    fig = Figure("confusion", title, text, 0.0, 0.0, digest("confusion", title, names, counts, normalize))
    cell = max(40.0, min(88.0, 400.0 / len(names)))
    left = 60 + row_label_width(names)
    plot = Plot(left, 70.0, cell * len(names), cell * len(names))
    fig.add(
        label(
            16.0,
            50.0,
            "Shading: share of each true class (row); n = patients per true class",
            size=TICK_SIZE - 1,
            fill=MUTED,
            class_="chart-note",
        )
    )
    cells(fig, plot, [_confusion_row(names, i, row, normalize) for i, row in enumerate(counts)], cell)
    _diagonal(fig, plot, len(names), cell)
    for r, row in enumerate(counts):
        fig.add(
            label(
                plot.right + 8,
                plot.top + (r + 0.5) * cell,
                f"n = {sum(row):,}",
                dy="0.35em",
                fill=MUTED,
                class_="row-total",
            )
        )
    draw_row_labels(fig, plot, names, cell, "True class")
    fig.height = column_labels(fig, plot, names, cell, "Predicted class")
    total_width = max(text_width(f"n = {sum(r):,}", TICK_SIZE) for r in counts)
    fig.width = fig.fit_title(max(plot.right + total_width + 24, 460.0))
    return fig.render()


def _confusion_row(names: list[str], i: int, row: list[int], normalize: bool) -> list[Cell]:
    total = sum(row)
    out = []
    for j, count in enumerate(row):
        share = count / total if total else 0.0
        tip = f"True {names[i]}, predicted {names[j]}: {count:,}" + (
            f" ({share:.0%} of row)" if total else ""
        )
        main = f"{share:.2f}" if normalize and total else f"{count:,}"
        note = f"({count:,})" if normalize and total else ""
        out.append(Cell(mix(BLUES, share), main, note, tip))
    return out


def _diagonal(fig: Figure, plot: Plot, n: int, cell: float) -> None:
    """Outline the correct predictions so the diagonal reads at a glance, in colour or grey."""
    for i in range(n):
        fig.add(
            el(
                "rect",
                {
                    "class": "diagonal",
                    "x": plot.left + i * cell + 1,
                    "y": plot.top + i * cell + 1,
                    "width": cell - 2,
                    "height": cell - 2,
                    "fill": "none",
                    "stroke": "#111111",
                    "stroke_width": 1.5,
                },
            )
        )


def heatmap(
    matrix: Sequence[Sequence[float | None]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str,
    vmin: float = -1.0,
    vmax: float = 1.0,
    colorbar_label: str = "Pearson r",
    desc: str | None = None,
) -> Svg:
    """A grid coloured on a diverging blue-white-red ramp from vmin to vmax, with a colour bar.

    Values are printed in the cells when the cells are large enough; missing ones are hatched.
    """
    rows, cols = as_labels(row_labels), as_labels(col_labels)
    if not rows or not cols:
        return no_data("heatmap", title)
    if not vmin < vmax:
        raise ValidationError(f"vmin {vmin} must be below vmax {vmax}")
    grid = table(matrix, "matrix", (len(rows), len(cols)))
    text = desc or summary(
        f"Heatmap of {colorbar_label} from {fmt_value(vmin)} (blue) to {fmt_value(vmax)} "
        f"(red); {len(rows)} rows by {len(cols)} columns. "
        + " ".join(
            f"{r}: " + ", ".join("n/a" if v is None else fmt_value(v) for v in row) + "."
            for r, row in zip(rows, grid, strict=True)
        )
    )
    fig = Figure("heatmap", title, text, 0.0, 0.0, digest("heatmap", title, rows, cols, grid, vmin, vmax))
    cell = max(18.0, min(60.0, 440.0 / max(len(rows), len(cols))))
    plot = Plot(28 + row_label_width(rows), 52.0, cell * len(cols), cell * len(rows))
    show = cell >= 34
    cells(
        fig,
        plot,
        [
            [_heat_cell(v, r, c, vmin, vmax, show) for c, v in zip(cols, row, strict=True)]
            for r, row in zip(rows, grid, strict=True)
        ],
        cell,
    )
    draw_row_labels(fig, plot, rows, cell, "")
    bottom = column_labels(fig, plot, cols, cell, "")
    fig.width = _colour_bar(fig, plot, vmin, vmax, colorbar_label)
    fig.height = max(bottom, plot.top + 200 + 20, plot.bottom + column_depth(cols, cell) + 16)
    return fig.render()


def _heat_cell(value: float | None, row: str, col: str, vmin: float, vmax: float, show: bool) -> Cell:
    if value is None:
        return Cell(None, "", "", f"{row} × {col}: n/a")
    colour = mix(RED_BLUE, (value - vmin) / (vmax - vmin))
    return Cell(colour, fmt_tick(value, 0.01) if show else "", "", f"{row} × {col}: {fmt_value(value)}")


def _colour_bar(fig: Figure, plot: Plot, vmin: float, vmax: float, title: str) -> float:
    """A vertical gradient legend right of the grid; returns the figure width it needs."""
    x, top = plot.right + 24, plot.top
    height = max(200.0, min(plot.height, 320.0))
    gid = f"{fig.uid}-ramp"
    stops = "".join(
        el("stop", {"offset": f"{i / (len(RED_BLUE) - 1):.3f}", "stop-color": colour})
        for i, colour in enumerate(reversed(RED_BLUE))
    )
    fig.defs.append(el("linearGradient", {"id": gid, "x1": 0, "y1": 0, "x2": 0, "y2": 1}, stops))
    fig.add(
        el(
            "rect",
            {
                "class": "colorbar",
                "x": x,
                "y": top,
                "width": 16.0,
                "height": height,
                "fill": f"url(#{gid})",
                "stroke": AXIS,
                "stroke_width": 1.0,
            },
        )
    )
    step = nice_step(vmax - vmin, 4)
    marks = [t for t in ticks(-(-vmin // step) * step, vmax, step) if vmin - 1e-9 <= t <= vmax + 1e-9]
    for mark in marks:
        y = top + (vmax - mark) / (vmax - vmin) * height
        fig.add(el("line", {"x1": x + 16, "x2": x + 21, "y1": y, "y2": y, "stroke": AXIS}))
        fig.add(label(x + 25, y, fmt_tick(mark, step), dy="0.35em", class_="tick-label"))
    widest = max(text_width(fmt_tick(m, step), TICK_SIZE) for m in marks)
    tx, ty = x + 36 + widest + LABEL_SIZE, top + height / 2
    fig.add(
        label(
            tx,
            ty,
            title,
            size=LABEL_SIZE,
            class_="axis-label",
            text_anchor="middle",
            font_weight=600,
            transform=f"rotate(-90 {num(tx)} {num(ty)})",
        )
    )
    return fig.fit_title(tx + 16)
