"""Grouped vertical bars with error bars (per-class recall) and sorted horizontal bars (importance)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cohortbench.errors import ValidationError
from cohortbench.web.charts._axes import (
    Key,
    Plot,
    baseline,
    category_depth,
    category_labels,
    legend,
    no_data,
    x_axis,
    x_title,
    y_axis,
)
from cohortbench.web.charts._data import as_labels, interval, numbers, present
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


def bar_chart(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    intervals: Mapping[str, Sequence[tuple[float, float] | None]] | None = None,
    x_label: str,
    y_label: str,
    y_range: tuple[float, float] | None = (0.0, 1.0),
    title: str,
    interval_label: str = "95% interval",
    desc: str | None = None,
) -> Svg:
    """Grouped bars, one group per category and one colour per series, with optional error bars.

    A missing value (None or NaN) is drawn as a hatched "n/a" mark, never as a zero-height bar,
    because "not measurable" (a class absent from the holdout) and "zero recall" differ.
    """
    cats = as_labels(categories)
    if not cats or not series:
        return no_data("bar", title)
    values = {str(k): numbers(v, f"series {k!r}", len(cats)) for k, v in series.items()}
    spans = _intervals(intervals, values, len(cats))
    if y_range is not None and not y_range[0] < y_range[1]:
        raise ValidationError(f"y_range {y_range} must be (low, high) with low < high")
    extent = [x for vs in values.values() for x in present(vs)]
    extent += [x for ivs in spans.values() for iv in ivs if iv for x in iv]
    lo, hi, marks, step = value_range(extent, y_range)
    text = desc or _describe(cats, values, spans, x_label, y_label, interval_label)
    fig = Figure("bar", title, text, 0.0, 0.0, digest("bar", title, cats, values, spans))
    fig.width = fig.fit_title(min(920.0, max(520.0, 140.0 + len(cats) * (len(values) * 38.0 + 30.0))))
    keys = [Key(n, OKABE_ITO[i % len(OKABE_ITO)]) for i, n in enumerate(values)]
    keys = _extra_keys(keys, values, spans, interval_label)
    top = legend(fig, keys) if len(keys) > 1 else 52.0
    widest = max(text_width(fmt_tick(m, step), TICK_SIZE) for m in marks)
    plot = Plot(44 + widest, top + 8, fig.width - 64 - widest, 270.0)
    band = plot.width / len(cats)
    scale = Linear(lo, hi, plot.bottom, plot.top)
    y_axis(fig, plot, scale, marks, [fmt_tick(m, step) for m in marks], y_label)
    _groups(fig, plot, scale, cats, values, spans, max(lo, min(0.0, hi)), interval_label)
    baseline(fig, plot, scale(max(lo, min(0.0, hi))))
    category_labels(fig, plot, [plot.left + band * (i + 0.5) for i in range(len(cats))], cats, band)
    depth = category_depth(cats, band)
    x_title(fig, plot, x_label, plot.bottom + depth + 18)
    fig.height = plot.bottom + depth + 32
    return fig.render()


def _intervals(
    intervals: Mapping[str, Sequence[object]] | None, values: Mapping[str, object], n: int
) -> dict[str, list[Interval]]:
    """Checked (low, high) pairs per series; series without intervals get none."""
    spans: dict[str, list[Interval]] = {name: [None] * n for name in values}
    for name, pairs in (intervals or {}).items():
        if str(name) not in values:
            raise ValidationError(f"intervals given for unknown series {name!r}")
        if len(pairs) != n:
            raise ValidationError(f"intervals of series {name!r} have {len(pairs)} pairs, expected {n}")
        spans[str(name)] = [interval(p, f"intervals {name!r}[{i}]") for i, p in enumerate(pairs)]
    return spans


def _extra_keys(
    keys: list[Key],
    values: Mapping[str, list[float | None]],
    spans: Mapping[str, list[Interval]],
    interval_label: str,
) -> list[Key]:
    """Legend entries for the error bars and n/a marks, only when the chart shows them."""
    extra = list(keys)
    if any(iv for ivs in spans.values() for iv in ivs):
        extra.append(Key(interval_label, INK, "whisker"))
    if any(v is None for vs in values.values() for v in vs):
        extra.append(Key("n/a: no value", NA_STROKE, "hatch"))
    return extra


def _groups(
    fig: Figure,
    plot: Plot,
    scale: Linear,
    cats: list[str],
    values: Mapping[str, list[float | None]],
    spans: Mapping[str, list[Interval]],
    zero: float,
    interval_label: str,
) -> None:
    """Draw every bar, n/a mark and error bar, group by group."""
    band = plot.width / len(cats)
    bar = min(56.0, band * 0.8 / len(values))
    for i, cat in enumerate(cats):
        start = plot.left + band * (i + 0.5) - bar * len(values) / 2
        for j, (name, vals) in enumerate(values.items()):
            x, colour, value = start + j * bar, OKABE_ITO[j % len(OKABE_ITO)], vals[i]
            tip = f"{name} · {cat}: {'n/a' if value is None else fmt_value(value)}"
            if value is None:
                fig.add(_na_mark(fig, x + 1, bar - 2, scale(zero), tip))
                continue
            iv = spans[name][i]
            if iv:
                tip += f" ({interval_label} {fmt_value(iv[0])}–{fmt_value(iv[1])})"
            y0, y1 = sorted((scale(zero), scale(value)))
            fig.add(
                el(
                    "rect",
                    {
                        "class": "bar",
                        "data-series": name,
                        "x": x + 1,
                        "y": y0,
                        "width": bar - 2,
                        "height": max(y1 - y0, 0.0),
                        "fill": colour,
                    },
                    tooltip(tip),
                )
            )
            if iv:
                fig.add(_error_bar(x + bar / 2, scale(iv[0]), scale(iv[1]), min(8.0, bar / 3)))


def _na_mark(fig: Figure, x: float, width: float, base: float, tip: str) -> str:
    """A hatched stub with "n/a" on it: visibly not a bar of height zero."""
    box = el(
        "rect",
        {
            "class": "na-marker",
            "x": x,
            "y": base - NA_HEIGHT,
            "width": width,
            "height": NA_HEIGHT,
            "fill": fig.hatch(),
            "stroke": NA_STROKE,
            "stroke_dasharray": "3 2",
        },
    )
    note = label(
        x + width / 2,
        base - NA_HEIGHT - 6,
        "n/a",
        size=12.0,
        text_anchor="middle",
        fill=MUTED,
        class_="na-label",
    )
    return el("g", {"class": "na"}, tooltip(tip), box, note)


def _error_bar(x: float, y_low: float, y_high: float, cap: float) -> str:
    """A vertical whisker with caps at both ends."""
    d = (
        f"M{num(x)} {num(y_low)}V{num(y_high)}M{num(x - cap)} {num(y_low)}H{num(x + cap)}"
        f"M{num(x - cap)} {num(y_high)}H{num(x + cap)}"
    )
    return el("path", {"class": "error-bar", "d": d, "stroke": INK, "stroke_width": 1.6, "fill": "none"})


def _describe(
    cats: list[str],
    values: Mapping[str, list[float | None]],
    spans: Mapping[str, list[Interval]],
    x_label: str,
    y_label: str,
    interval_label: str,
) -> str:
    """A text alternative listing every value (what a screen reader user needs)."""
    parts = [f"Bar chart of {y_label} by {x_label}."]
    for name, vals in values.items():
        cells = []
        for cat, v, iv in zip(cats, vals, spans[name], strict=True):
            shown = "n/a" if v is None else fmt_value(v)
            cells.append(f"{cat} {shown}" + (f" ({fmt_value(iv[0])}–{fmt_value(iv[1])})" if iv else ""))
        parts.append(f"{name}: " + ", ".join(cells) + ".")
    if any(iv for ivs in spans.values() for iv in ivs):
        parts.append(f"Brackets: {interval_label}.")
    return summary(" ".join(parts))


def horizontal_bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    errors: Sequence[float | None] | None = None,
    x_label: str,
    title: str,
    sort: bool = True,
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
    return _draw_rows(fig, rows, x_label)


def _draw_rows(fig: Figure, rows: list[tuple[str, float | None, float | None]], x_label: str) -> Svg:
    """Lay out and draw the horizontal bars with value labels at their ends."""
    ends = [x for _, v, e in rows if v is not None for x in (v - (e or 0.0), v + (e or 0.0))]
    lo, hi, marks, step = value_range(ends, None)
    left = 24 + min(240.0, max(text_width(n, TICK_SIZE) for n, _, _ in rows))
    keys = [Key("mean ± sd", INK, "whisker")] if any(e is not None for _, _, e in rows) else []
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
