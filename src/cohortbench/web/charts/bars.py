"""Grouped vertical bars with error bars and n/a marks (e.g. per-class recall, baseline vs finetuned)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cohortbench.errors import ValidationError
from cohortbench.web.charts._axes import (
    Plot,
    baseline,
    category_depth,
    category_labels,
    no_data,
    slanted,
    x_title,
    y_axis,
)
from cohortbench.web.charts._data import as_labels, interval, numbers, present
from cohortbench.web.charts._legend import Key, legend
from cohortbench.web.charts._scale import Linear, fmt_tick, fmt_value, value_range
from cohortbench.web.charts._svg import (
    INK,
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
    left = 50 + widest
    band = (fig.width - 20 - left) / len(cats)
    if slanted(cats, band):  # the first slanted name must not run off the left edge
        left = max(left, 0.82 * min(130.0, text_width(cats[0], TICK_SIZE)) - band / 2 + 12)
    plot = Plot(left, top + 8, fig.width - 20 - left, 270.0)
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
    cx, y = x + width / 2, base - NA_HEIGHT - 6
    # Too narrow for the word: write it upwards so that it does not run into the neighbours.
    if width >= 22:
        note = label(cx, y, "n/a", size=12.0, fill=MUTED, class_="na-label", text_anchor="middle")
    else:
        turn = f"rotate(-90 {num(cx)} {num(y)})"
        note = label(cx, y, "n/a", size=12.0, fill=MUTED, class_="na-label", transform=turn, dy="0.35em")
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
