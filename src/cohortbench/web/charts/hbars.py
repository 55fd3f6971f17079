"""Sorted horizontal bars with spread whiskers (e.g. grouped permutation importance, mean ± sd)."""

from __future__ import annotations

from collections.abc import Sequence

from cohortbench.errors import ValidationError
from cohortbench.web.charts._axes import (
    Plot,
    no_data,
    x_axis,
)
from cohortbench.web.charts._data import as_labels, numbers
from cohortbench.web.charts._legend import Key, legend
from cohortbench.web.charts._scale import Linear, fmt_tick, fmt_value, value_range
from cohortbench.web.charts._svg import (
    INK,
    LABEL_SIZE,
    MUTED,
    NA_STROKE,
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

Interval = tuple[float, float] | None
NA_HEIGHT = 24.0


def horizontal_bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    errors: Sequence[float | None] | None = None,
    x_label: str,
    title: str,
    sort: bool = True,
    error_label: str = "mean ± sd",
    desc: str | None = None,
) -> Svg:
    """One bar per label, largest on top (e.g. grouped permutation importance, mean ± sd).

    Negative values (features whose shuffling helped) extend left of zero; missing ones sink
    to the bottom as hatched "n/a" marks.
    """
    names = as_labels(labels)
    if not names:
        return no_data("hbar", title)
    vals = numbers(values, "values", len(names))
    errs = numbers(errors, "errors", len(names)) if errors is not None else [None] * len(names)
    if any(e is not None and e < 0 for e in errs):
        raise ValidationError("errors must be non-negative (a spread such as a standard deviation)")
    rows = list(zip(names, vals, errs, strict=True))
    if sort:
        rows.sort(key=lambda r: (r[1] is None, -(r[1] or 0.0)))
    text = desc or summary(
        f"Horizontal bar chart of {x_label}: "
        + "; ".join(
            f"{n} {'n/a' if v is None else fmt_value(v)}" + (f" ± {fmt_value(e)}" if e is not None else "")
            for n, v, e in rows
        )
        + "."
    )
    fig = Figure("hbar", title, text, 720.0, 0.0, digest("hbar", title, rows))
    return _draw_rows(fig, rows, x_label, error_label)


def _draw_rows(
    fig: Figure, rows: list[tuple[str, float | None, float | None]], x_label: str, error_label: str
) -> Svg:
    """Lay out and draw the horizontal bars with value labels at their ends."""
    ends = [x for _, v, e in rows if v is not None for x in (v - (e or 0.0), v + (e or 0.0))]
    lo, hi, marks, step = value_range(ends, None)
    left = 24 + min(240.0, max(text_width(n, TICK_SIZE) for n, _, _ in rows))
    keys = [Key(error_label, INK, "whisker")] if any(e is not None for _, _, e in rows) else []
    top = legend(fig, keys) if keys else 52.0
    plot = Plot(left, top + 6, fig.width - left - 70, 30.0 * len(rows))
    scale = Linear(lo, hi, plot.left, plot.right)
    x_axis(fig, plot, scale, marks, [fmt_tick(m, step) for m in marks], x_label)
    for i, (name, value, err) in enumerate(rows):
        y = plot.top + 30.0 * i + 15
        fig.add(
            label(plot.left - 10, y, name, max_width=240, text_anchor="end", dy="0.35em", class_="tick-label")
        )
        fig.add(_hbar(fig, scale, y, value, err, f"{name}: {'n/a' if value is None else fmt_value(value)}"))
    zero = scale(max(lo, min(0.0, hi)))
    fig.add(
        el(
            "line",
            {
                "class": "axis",
                "x1": zero,
                "x2": zero,
                "y1": plot.top,
                "y2": plot.bottom,
                "stroke": "#6e6e6e",
                "stroke_width": 1.5,
            },
        )
    )
    fig.height = plot.bottom + 64
    return fig.render()


def _hbar(fig: Figure, scale: Linear, y: float, value: float | None, err: float | None, tip: str) -> str:
    """One horizontal bar (or n/a mark) with its whisker and value label."""
    zero = scale(max(scale.d0, min(0.0, scale.d1)))
    if value is None:
        box = el(
            "rect",
            {
                "class": "na-marker",
                "x": zero,
                "y": y - 10,
                "width": 40,
                "height": 20,
                "fill": fig.hatch(),
                "stroke": NA_STROKE,
                "stroke_dasharray": "3 2",
            },
        )
        note = label(zero + 48, y, "n/a", fill=MUTED, dy="0.35em", class_="na-label")
        return el("g", {"class": "na"}, tooltip(tip), box, note)
    x0, x1 = sorted((zero, scale(value)))
    parts = [
        el(
            "rect",
            {"class": "bar", "x": x0, "y": y - 10, "width": x1 - x0, "height": 20, "fill": OKABE_ITO[0]},
            tooltip(tip + (f" ± {fmt_value(err)}" if err else "")),
        )
    ]
    end = max(scale(value), zero)
    if err is not None:
        a, b = scale(value - err), scale(value + err)
        parts.append(
            el(
                "path",
                {
                    "class": "error-bar",
                    "d": f"M{num(a)} {num(y)}H{num(b)}M{num(a)} "
                    f"{num(y - 6)}V{num(y + 6)}M{num(b)} {num(y - 6)}V{num(y + 6)}",
                    "stroke": INK,
                    "stroke_width": 1.6,
                    "fill": "none",
                },
            )
        )
        end = max(b, zero)
    # Negative bars keep their label right of the zero line, clear of the row names on the left.
    parts.append(
        label(max(end, zero) + 6, y, fmt_value(value), dy="0.35em", class_="value-label", size=LABEL_SIZE - 1)
    )
    return "".join(parts)
