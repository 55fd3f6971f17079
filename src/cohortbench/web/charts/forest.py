"""Forest plots: one estimate with its interval per row (e.g. macro-F1 with 95% CI per submission)."""

from __future__ import annotations

from collections.abc import Sequence

from cohortbench.errors import ValidationError
from cohortbench.web.charts._axes import Plot, no_data, x_axis
from cohortbench.web.charts._data import number
from cohortbench.web.charts._legend import Key, legend, marker
from cohortbench.web.charts._scale import Linear, fixed_decimals, fmt_fixed, fmt_tick, fmt_value, value_range
from cohortbench.web.charts._svg import (
    INK,
    MUTED,
    OKABE_ITO,
    TICK_SIZE,
    Figure,
    Svg,
    digest,
    el,
    label,
    num,
    summary,
    text_width,
    tooltip,
)

Row = tuple[str, float | None, float | None, float | None]
ROW_HEIGHT = 32.0
VALUE_COLUMN = 150.0


def interval_plot(
    rows: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    x_label: str,
    title: str,
    reference: float | None = None,
    reference_label: str = "Reference",
    value_header: str = "Estimate (95% CI)",
    desc: str | None = None,
) -> Svg:
    """Each row: label, point estimate, low, high. Rows keep their order (rank them beforehand).

    The estimate and interval are also written out in a right-hand column, so the chart reads
    in print and to people who do not judge positions well.
    """
    checked = [_row(i, r) for i, r in enumerate(rows)]
    if not checked:
        return no_data("interval", title)
    ends = [x for _, v, lo, hi in checked for x in (v, lo, hi) if x is not None]
    ends += [reference] if reference is not None else []
    if not ends:
        ends = [0.0, 1.0]
    lo, hi, marks, step = value_range(ends, None, include_zero=False)
    digits = fixed_decimals(ends)
    text = desc or _describe(checked, x_label, digits, reference, reference_label)
    fig = Figure("interval", title, text, 760.0, 0.0, digest("interval", title, checked, reference))
    ref_key = f"{reference_label} ({fmt_value(reference)})" if reference is not None else ""
    top = legend(fig, [Key(ref_key, MUTED, "dashed")]) + 18 if ref_key else 70.0
    left = 24 + min(220.0, max(text_width(n, TICK_SIZE) for n, *_ in checked))
    plot = Plot(left, top, fig.width - left - VALUE_COLUMN - 16, ROW_HEIGHT * len(checked))
    scale = Linear(lo, hi, plot.left, plot.right)
    x_axis(fig, plot, scale, marks, [fmt_tick(m, step) for m in marks], x_label)
    right = plot.right + 14
    fig.add(label(right, plot.top - 10, value_header, fill=MUTED, class_="column-header", font_weight=600))
    if reference is not None:
        x = scale(reference)
        line = {"class": "reference", "x1": x, "x2": x, "y1": plot.top - 4, "y2": plot.bottom}
        fig.add(el("line", line | {"stroke": MUTED, "stroke_width": 1.5, "stroke_dasharray": "6 4"}))
    for i, row in enumerate(checked):
        _draw_row(fig, plot, scale, plot.top + ROW_HEIGHT * (i + 0.5), row, i, digits)
    fig.height = plot.bottom + 62
    return fig.render()


def _describe(rows: list[Row], x_label: str, digits: int, reference: float | None, ref_label: str) -> str:
    """Every row's estimate in words, for screen readers."""
    text = f"Interval plot of {x_label}. " + " ".join(
        f"{n}: {_estimate(v, a, b, digits)}." for n, v, a, b in rows
    )
    return summary(text + (f" {ref_label}: {fmt_value(reference)}." if reference is not None else ""))


def _row(i: int, row: object) -> Row:
    fields = list(row) if isinstance(row, tuple | list) else []
    if len(fields) != 4:
        raise ValidationError(f"rows[{i}] must be (label, value, low, high), got {row!r}")
    name = fields[0]
    v, a, b = (number(x, f"rows[{i}]") for x in fields[1:])
    if a is not None and b is not None and a > b:
        raise ValidationError(f"rows[{i}]: low {a} is above high {b}")
    return ("" if name is None else str(name)), v, a, b


def _estimate(value: float | None, low: float | None, high: float | None, digits: int) -> str:
    if value is None:
        return "n/a"
    if low is None or high is None:
        return fmt_fixed(value, digits)
    return f"{fmt_fixed(value, digits)} ({fmt_fixed(low, digits)}–{fmt_fixed(high, digits)})"


def _draw_row(fig: Figure, plot: Plot, scale: Linear, y: float, row: Row, index: int, digits: int) -> None:
    """The row's label, its whisker and point, and the numbers in the right-hand column."""
    name, value, low, high = row
    if index % 2 == 0:  # zebra bands guide the eye from the name to the numbers
        band = {"class": "row-band", "x": 8.0, "y": y - ROW_HEIGHT / 2, "width": fig.width - 16}
        fig.add(el("rect", band | {"height": ROW_HEIGHT, "fill": "#000000", "fill-opacity": 0.035}))
    fig.add(
        label(plot.left - 12, y, name, max_width=220, text_anchor="end", dy="0.35em", class_="tick-label")
    )
    estimate = _estimate(value, low, high, digits)
    ink = MUTED if value is None else INK
    fig.add(label(plot.right + 14, y, estimate, dy="0.35em", class_="value-label", fill=ink))
    if low is not None and high is not None:
        a, b = scale(low), scale(high)
        d = f"M{num(a)} {num(y)}H{num(b)}M{num(a)} {num(y - 6)}V{num(y + 6)}M{num(b)} {num(y - 6)}V{num(y + 6)}"
        path = {"class": "interval", "d": d, "stroke": INK, "stroke_width": 1.8, "fill": "none"}
        fig.add(el("path", path, tooltip(f"{name}: {estimate}")))
    if value is not None:
        fig.add(marker("diamond", scale(value), y, 6.5, OKABE_ITO[0], f"{name}: {estimate}"))
