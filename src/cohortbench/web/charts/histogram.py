"""Histograms of released aggregates, with suppressed bins shown as hatched "<11" marks.

The privacy module releases bins with open outer edges (±inf) and suppresses small counts;
both are drawn explicitly so that nobody reads a suppressed bin as "no patients".
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence

from cohortbench.errors import ValidationError
from cohortbench.web.charts._axes import Plot, baseline, no_data, x_title, y_axis
from cohortbench.web.charts._data import number, numbers, present
from cohortbench.web.charts._legend import Key, legend
from cohortbench.web.charts._scale import MINUS, Linear, fmt_tick, fmt_value, value_range
from cohortbench.web.charts._svg import (
    AXIS,
    MUTED,
    NA_STROKE,
    OKABE_ITO,
    TICK_SIZE,
    Figure,
    Svg,
    digest,
    el,
    label,
    summary,
    text_width,
    tooltip,
)

MIN_MARK = 16.0  # pixels: a suppressed bin stays visible even next to bins of thousands


def histogram_chart(
    bin_edges: Sequence[float],
    counts: Sequence[int | None],
    *,
    x_label: str,
    y_label: str = "Patients",
    title: str,
    threshold: int = 11,
    desc: str | None = None,
) -> Svg:
    """Bars over [edge_i, edge_i+1); a None count is a suppressed bin, drawn hatched as "<threshold".

    Infinite outer edges (open-ended bins) are drawn as wide as a typical bin and labelled ∓∞.
    """
    if not counts:
        return no_data("histogram", title)
    edges = _edges(bin_edges, len(counts))
    vals = numbers(counts, "counts", len(counts))
    if any(v is not None and v < 0 for v in vals):
        raise ValidationError("counts must be non-negative")
    shown = _display_edges(edges)
    lo, hi, marks, step = value_range([*present(vals), float(threshold)], None)
    text = desc or _describe(edges, vals, x_label, y_label, threshold)
    fig = Figure("histogram", title, text, 640.0, 0.0, digest("histogram", title, edges, vals, threshold))
    top = (
        legend(fig, [Key(f"Suppressed: fewer than {threshold}", NA_STROKE, "hatch")])
        if None in vals
        else 52.0
    )
    widest = max(text_width(fmt_tick(m, step), TICK_SIZE) for m in marks)
    plot = Plot(50 + widest, top + 8, fig.width - 76 - widest, 260.0)
    y = Linear(lo, hi, plot.bottom, plot.top)
    x = Linear(shown[0], shown[-1], plot.left, plot.right)
    y_axis(fig, plot, y, marks, [fmt_tick(m, step) for m in marks], y_label)
    for i, value in enumerate(vals):
        fig.add(
            _bin(
                fig,
                x(shown[i]),
                x(shown[i + 1]),
                y,
                value,
                _range_text(edges[i], edges[i + 1]),
                threshold,
                y_label,
            )
        )
    baseline(fig, plot, plot.bottom)
    _edge_labels(fig, plot, x, edges, shown)
    x_title(fig, plot, x_label, plot.bottom + 46)
    fig.height = plot.bottom + 60
    return fig.render()


def _edges(bin_edges: Sequence[float], n: int) -> list[float]:
    """Edges as floats: n + 1 of them, strictly increasing, only the outer two may be infinite."""
    edges = [number(e, "bin_edges") if e not in (-math.inf, math.inf) else float(e) for e in bin_edges]
    if len(edges) != n + 1:
        raise ValidationError(f"bin_edges has {len(edges)} values, expected {n + 1} for {n} counts")
    if any(e is None for e in edges) or any(math.isinf(e) for e in edges[1:-1] if e is not None):
        raise ValidationError("bin_edges must be numbers; only the first and last may be infinite")
    checked = [float(e) for e in edges if e is not None]
    if any(b <= a for a, b in itertools.pairwise(checked)):
        raise ValidationError("bin_edges must be strictly increasing")
    return checked


def _display_edges(edges: list[float]) -> list[float]:
    """Replace infinite outer edges by a typical bin width beyond the last finite edge."""
    finite = [e for e in edges if math.isfinite(e)]
    widths = [b - a for a, b in itertools.pairwise(finite)]
    width = statistics.median(widths) if widths else 1.0
    anchor = finite[0] if finite else 0.0
    shown = list(edges)
    if math.isinf(shown[0]):
        shown[0] = (finite[0] if finite else anchor) - width
    if math.isinf(shown[-1]):
        shown[-1] = (finite[-1] if finite else shown[0]) + width
    return shown


def _bin(
    fig: Figure, x0: float, x1: float, y: Linear, value: float | None, span: str, threshold: int, unit: str
) -> str:
    """One bar, or a hatched mark reaching up to the suppression threshold."""
    base = y(y.d0)
    if value is not None:
        top = y(value)
        return el(
            "rect",
            {
                "class": "bar",
                "x": x0 + 0.5,
                "y": top,
                "width": max(x1 - x0 - 1, 1.0),
                "height": base - top,
                "fill": OKABE_ITO[0],
            },
            tooltip(f"{span}: {fmt_value(value)} {unit.lower()}"),
        )
    top = min(y(threshold), base - MIN_MARK)
    box = el(
        "rect",
        {
            "class": "suppressed",
            "x": x0 + 0.5,
            "y": top,
            "width": max(x1 - x0 - 1, 1.0),
            "height": base - top,
            "fill": fig.hatch(),
            "stroke": NA_STROKE,
            "stroke_dasharray": "3 2",
        },
    )
    note = label(
        (x0 + x1) / 2,
        top - 6,
        f"<{threshold}",
        size=12.0,
        text_anchor="middle",
        fill=MUTED,
        class_="suppressed-label",
    )
    return el(
        "g", {"class": "suppressed-bin"}, tooltip(f"{span}: fewer than {threshold} (suppressed)"), box, note
    )


def _edge_labels(fig: Figure, plot: Plot, x: Linear, edges: list[float], shown: list[float]) -> None:
    """Tick labels at the bin edges, thinned out so that neighbours never overlap."""
    names = [_edge_text(e) for e in edges]
    gap = min(x(b) - x(a) for a, b in itertools.pairwise(shown))
    widest = max(text_width(n, TICK_SIZE) for n in names)
    every = max(1, math.ceil((widest + 8) / max(gap, 1.0)))
    for i, (edge, name) in enumerate(zip(shown, names, strict=True)):
        px = x(edge)
        fig.add(el("line", {"x1": px, "x2": px, "y1": plot.bottom, "y2": plot.bottom + 5, "stroke": AXIS}))
        if i % every == 0:
            fig.add(label(px, plot.bottom + 20, name, text_anchor="middle", class_="tick-label"))


def _edge_text(edge: float) -> str:
    if math.isinf(edge):
        return "+∞" if edge > 0 else MINUS + "∞"
    return fmt_value(edge)


def _range_text(a: float, b: float) -> str:
    if math.isinf(a) and math.isinf(b):
        return "all values"
    if math.isinf(a):
        return f"below {fmt_value(b)}"
    if math.isinf(b):
        return f"{fmt_value(a)} and above"
    return f"{fmt_value(a)} to {fmt_value(b)}"


def _describe(
    edges: list[float], vals: list[float | None], x_label: str, y_label: str, threshold: int
) -> str:
    cells = [
        f"{_range_text(a, b)}: {'<' + str(threshold) if v is None else fmt_value(v)}"
        for a, b, v in zip(edges, edges[1:], vals, strict=False)
    ]
    return summary(f"Histogram of {x_label} ({y_label.lower()} per bin): " + "; ".join(cells) + ".")
