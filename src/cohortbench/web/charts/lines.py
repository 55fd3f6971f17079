"""Line charts (training-loss curves) and reliability diagrams (calibration curves)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from cohortbench.errors import ValidationError
from cohortbench.web.charts._axes import Plot, no_data, x_axis, y_axis
from cohortbench.web.charts._data import numbers, present
from cohortbench.web.charts._legend import SHAPES, Key, legend, marker
from cohortbench.web.charts._scale import (
    Linear,
    Log,
    fmt_log_tick,
    fmt_tick,
    fmt_value,
    log_domain,
    nice_domain,
    nice_step,
    ticks,
)
from cohortbench.web.charts._svg import (
    MUTED,
    OKABE_ITO,
    TICK_SIZE,
    Figure,
    Svg,
    digest,
    el,
    num,
    summary,
    text_width,
)

Point = tuple[float, float | None]
MAX_MARKED = 40  # beyond this many points markers would blur into the line


def line_chart(
    series: Mapping[str, Sequence[float | None]],
    *,
    x_label: str = "Epoch",
    y_label: str = "Training loss",
    title: str,
    log_y: bool = False,
    x_start: int = 1,
    desc: str | None = None,
) -> Svg:
    """One line per series over x = x_start, x_start + 1, ... (epochs); gaps where a value is missing.

    With `log_y`, non-positive values cannot be placed and become gaps too.
    """
    data = {str(k): numbers(v, f"series {k!r}") for k, v in series.items()}
    if log_y:
        data = {k: [v if v is not None and v > 0 else None for v in vs] for k, vs in data.items()}
    values = [v for vs in data.values() for v in present(vs)]
    if not values:
        return no_data("line", title)
    longest = max(len(vs) for vs in data.values())
    text = desc or summary(
        f"Line chart of {y_label} by {x_label}{' (log scale)' if log_y else ''}. "
        + " ".join(
            f"{k}: {len(present(vs))} points, first {_edge(vs, 0)}, last {_edge(vs, -1)}, "
            f"lowest {fmt_value(min(present(vs)))}."
            if present(vs)
            else f"{k}: no values."
            for k, vs in data.items()
        )
    )
    fig = Figure("line", title, text, 680.0, 0.0, digest("line", title, data, log_y, x_start))
    keys = [Key(k, OKABE_ITO[i % 8], "line", SHAPES[i % 4]) for i, k in enumerate(data)]
    top = legend(fig, keys) if len(keys) > 1 else 52.0
    y, marks, names = _y_scale(values, log_y)
    plot = Plot(50 + max(text_width(n, TICK_SIZE) for n in names), top + 10, 0.0, 280.0)
    plot = Plot(plot.left, plot.top, fig.width - plot.left - 24, plot.height)
    scale_y = (Log if log_y else Linear)(y[0], y[1], plot.bottom, plot.top)
    x_hi = x_start + max(longest - 1, 1)
    x_lo = float(x_start) if longest > 1 else x_start - 1.0  # a lone point sits mid-plot
    scale_x = Linear(x_lo, float(x_hi), plot.left, plot.right)
    y_axis(fig, plot, scale_y, marks, names, y_label)
    x_marks = _integer_ticks(x_start, x_hi) if longest > 1 else [float(x_start)]
    x_axis(fig, plot, scale_x, x_marks, [f"{int(m):,}" for m in x_marks], x_label, grid=False)
    for i, (name, vals) in enumerate(data.items()):
        points: list[Point] = [(float(x_start + j), v) for j, v in enumerate(vals)]
        fig.add(_series(points, scale_x, scale_y, OKABE_ITO[i % 8], SHAPES[i % 4], name, longest))
    fig.height = plot.bottom + 60
    return fig.render()


def _edge(vals: list[float | None], index: int) -> str:
    found = present(vals)
    return fmt_value(found[index]) if found else "n/a"


def _y_scale(values: list[float], log_y: bool) -> tuple[tuple[float, float], list[float], list[str]]:
    """Domain, tick values and tick labels of the vertical axis."""
    if log_y:
        lo, hi, marks = log_domain(min(values), max(values))
        return (lo, hi), marks, [fmt_log_tick(m) for m in marks]
    lo, hi, step = nice_domain(min(values), max(values))
    marks = ticks(lo, hi, step)
    return (lo, hi), marks, [fmt_tick(m, step) for m in marks]


def _integer_ticks(lo: int, hi: int) -> list[float]:
    """Whole-number ticks (epochs are counted, not measured)."""
    step = max(1.0, nice_step(hi - lo, 6))
    step = 2.0 if step == 2.5 else step
    first = math.ceil(lo / step) * step
    marks = [float(lo)] if first > lo else []
    return marks + [m for m in ticks(first, hi, step) if m <= hi]


def _series(
    points: Sequence[Point],
    sx: Linear,
    sy: Linear | Log,
    colour: str,
    shape: str,
    name: str,
    longest: int,
    radii: Sequence[float] | None = None,
) -> str:
    """A polyline broken at gaps, with a marker (and tooltip) per point when there are few."""
    runs: list[list[str]] = [[]]
    marks = []
    for i, (x, y) in enumerate(points):
        if y is None:
            runs.append([])
            continue
        runs[-1].append(f"{num(sx(x))},{num(sy(y))}")
        if longest <= MAX_MARKED or radii is not None:
            r = radii[i] if radii is not None else 4.0
            marks.append(marker(shape, sx(x), sy(y), r, colour, f"{name}: {fmt_value(x)}, {fmt_value(y)}"))
    lines = [
        el(
            "polyline",
            {
                "class": "line",
                "points": " ".join(run),
                "fill": "none",
                "stroke": colour,
                "stroke_width": 2.5,
                "stroke_linejoin": "round",
                "stroke_linecap": "round",
            },
        )
        for run in runs
        if len(run) > 1
    ]
    return el("g", {"class": "series", "data-series": name}, *lines, *marks)


def reliability_diagram(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    counts: Mapping[str, Sequence[int]] | None = None,
    title: str,
    x_label: str = "Mean predicted probability",
    y_label: str = "Observed frequency",
    desc: str | None = None,
    reference: str | None = "Perfect calibration",
) -> Svg:
    """Observed frequency against mean predicted probability per bin, beside the diagonal.

    Points under the diagonal are over-confident. With `counts`, marker area follows the number of
    patients in each bin, so that sparse, noisy bins do not look as trustworthy as full ones. Any
    other curve in the unit square (ROC, precision-recall) draws the same way: `reference` names
    the dashed diagonal (None: no diagonal).
    """
    data = {str(k): _curve(k, v, (counts or {}).get(k)) for k, v in curves.items()}
    if not any(pts for pts, _ in data.values()):
        return no_data("reliability", title)
    text = desc or summary(
        f"{title}: {y_label} against {x_label}"
        + (f"; the diagonal is {reference.lower()}. " if reference else ". ")
        + " ".join(
            f"{k}: " + ", ".join(f"({fmt_value(x)}, {fmt_value(y or 0)})" for x, y in pts) + "."
            for k, (pts, _) in data.items()
        )
    )
    fig = Figure("reliability", title, text, 560.0, 0.0, digest("reliability", title, data))
    keys = [Key(k, OKABE_ITO[i % 8], "line", SHAPES[i % 4]) for i, k in enumerate(data)]
    if reference:
        keys.append(Key(reference, MUTED, "dashed"))
    if counts:
        keys.append(Key("Marker area: patients in bin", MUTED, "marker"))
    top = legend(fig, keys)
    plot = Plot(84.0, top + 10, 380.0, 380.0)
    sx, sy = Linear(0.0, 1.0, plot.left, plot.right), Linear(0.0, 1.0, plot.bottom, plot.top)
    marks = ticks(0.0, 1.0, 0.2)
    y_axis(fig, plot, sy, marks, [fmt_tick(m, 0.2) for m in marks], y_label)
    x_axis(fig, plot, sx, marks, [fmt_tick(m, 0.2) for m in marks], x_label)
    fig.add(
        ""
        if reference is None
        else el(
            "line",
            {
                "class": "diagonal",
                "x1": plot.left,
                "y1": plot.bottom,
                "x2": plot.right,
                "y2": plot.top,
                "stroke": MUTED,
                "stroke_width": 1.5,
                "stroke_dasharray": "6 4",
            },
        )
    )
    for i, (name, (pts, radii)) in enumerate(data.items()):
        fig.add(_series(pts, sx, sy, OKABE_ITO[i % 8], SHAPES[i % 4], name, len(pts), radii))
    fig.height = plot.bottom + 60
    return fig.render()


def _curve(
    name: object, curve: tuple[Sequence[float], Sequence[float]], count: Sequence[int] | None
) -> tuple[list[Point], list[float] | None]:
    """Checked (x, y) points sorted by x, with marker radii from the bin counts when given."""
    try:
        xs_raw, ys_raw = curve
    except (TypeError, ValueError):
        raise ValidationError(f"curve {name!r} must be a pair (mean predicted, observed)") from None
    xs, ys = numbers(xs_raw, f"curve {name!r} x"), numbers(ys_raw, f"curve {name!r} y", len(xs_raw))
    ns = numbers(count, f"counts {name!r}", len(xs)) if count is not None else [None] * len(xs)
    rows = sorted(
        ((x, y, n) for x, y, n in zip(xs, ys, ns, strict=True) if x is not None and y is not None),
        key=lambda r: r[0],
    )
    if any(not (0 <= x <= 1 and 0 <= y <= 1) for x, y, _ in rows):
        raise ValidationError(f"curve {name!r}: probabilities and frequencies must lie in [0, 1]")
    if count is None:
        return [(x, y) for x, y, _ in rows], None
    biggest = max((n or 0 for _, _, n in rows), default=0) or 1
    return [(x, y) for x, y, _ in rows], [max(2.5, 9.0 * math.sqrt((n or 0) / biggest)) for _, _, n in rows]
