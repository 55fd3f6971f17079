"""SVG building blocks: the `Svg` string type, escaping, elements, colours and the figure frame.

Everything is plain strings so that a chart is a self-contained `<svg>` that works offline,
inlines into any HTML page and prints; every piece of user text passes through `esc`.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#111111"
MUTED = "#4d4d4d"
GRID = "#e1e1e1"
AXIS = "#6e6e6e"
NA_STROKE = "#707070"
# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
TITLE_SIZE = 17
LABEL_SIZE = 14
TICK_SIZE = 13
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CHAR_WIDTH = 0.55  # average advance of a sans-serif glyph, in em


class Svg(str):
    """An `<svg>` element as a string; `__html__` lets Jinja2 insert it without escaping."""

    __slots__ = ()

    @property
    def markup(self) -> str:
        """The SVG source as a plain `str`."""
        return str(self)

    def __html__(self) -> str:
        return str(self)


def esc(value: object) -> str:
    """XML-escape text and drop the control characters that XML 1.0 forbids."""
    return html.escape(_CONTROL.sub("", str(value)), quote=True)


def num(value: float) -> str:
    """A coordinate with at most two decimals (keeps the markup small and stable)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def start(name: str, attrs: dict[str, object] | None = None) -> str:
    """An opening tag; float attributes are rounded, others escaped, None ones left out.

    A trailing underscore is dropped and other underscores become hyphens (`class_`, `font_size`).
    """
    parts = [name]
    for key, value in (attrs or {}).items():
        if value is None:
            continue
        shown = num(value) if isinstance(value, float) else esc(value)
        parts.append(f'{key.rstrip("_").replace("_", "-")}="{shown}"')
    return "<" + " ".join(parts) + ">"


def el(name: str, attrs: dict[str, object] | None = None, *children: str) -> str:
    """One element with its (already escaped) children; self-closing when it has none."""
    head = start(name, attrs)
    if not children:
        return head[:-1] + "/>"
    return head + "".join(children) + f"</{name}>"


def tooltip(text: str) -> str:
    """A `<title>` child: browsers show it on hover and screen readers read it."""
    return f"<title>{esc(text)}</title>"


def text_width(text: str, size: float) -> float:
    """Estimated rendered width of `text` at font size `size` (no font metrics offline)."""
    return len(text) * size * _CHAR_WIDTH


def fit(text: str, max_width: float, size: float) -> str:
    """`text` shortened with an ellipsis so that it fits in `max_width`."""
    if text_width(text, size) <= max_width:
        return text
    keep = max(1, int(max_width / (size * _CHAR_WIDTH)) - 1)
    return text[:keep].rstrip() + "…"


def label(
    x: float,
    y: float,
    content: str,
    *,
    size: float = TICK_SIZE,
    max_width: float | None = None,
    **attrs: object,
) -> str:
    """A `<text>` element; when shortened to fit, the full text stays in a tooltip."""
    shown = content if max_width is None else fit(content, max_width, size)
    extra = tooltip(content) if shown != content else ""
    base: dict[str, object] = {"x": float(x), "y": float(y), "font_size": float(size), "fill": INK}
    base.update(attrs)
    return el("text", base, esc(shown) + extra)


def mix(stops: Sequence[str], t: float) -> str:
    """The colour at position t (0..1) along a piecewise-linear ramp of hex colours."""
    t = min(1.0, max(0.0, t)) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    a, b = _rgb(stops[i]), _rgb(stops[i + 1])
    f = t - i
    return "#" + "".join(f"{round(x + (y - x) * f):02x}" for x, y in zip(a, b, strict=True))


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def ink_on(colour: str) -> str:
    """Black or white text, whichever reads better on `colour` (WCAG relative luminance)."""
    lin = [(c / 255) / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in _rgb(colour)]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return INK if luminance > 0.25 else "#ffffff"


def digest(*key: object) -> str:
    """A short id derived from the chart's inputs: stable output, distinct ids per chart on a page."""
    return "cb" + hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()[:10]


def is_number(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


@dataclass
class Figure:
    """The frame of one chart: size, accessible title and description, defs and body parts."""

    kind: str
    title: str
    desc: str
    width: float
    height: float
    uid: str
    parts: list[str] = field(default_factory=list)
    defs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.width = self.fit_title(self.width) if self.width else 0.0

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)

    def fit_title(self, width: float) -> float:
        """`width`, widened (up to 960) so that the title is not cut."""
        return max(width, min(960.0, text_width(self.title, TITLE_SIZE) + 40))

    def hatch(self) -> str:
        """The id of this chart's hatch pattern (for n/a and suppressed marks), defined once."""
        pid = f"{self.uid}-hatch"
        if not self.defs or pid not in self.defs[0]:
            pattern = el(
                "pattern",
                {
                    "id": pid,
                    "patternUnits": "userSpaceOnUse",
                    "width": 6,
                    "height": 6,
                    "patternTransform": "rotate(45)",
                },
                el("rect", {"width": 6, "height": 6, "fill": "#f4f4f4"}),
                el("line", {"x1": 0, "y1": 0, "x2": 0, "y2": 6, "stroke": NA_STROKE, "stroke_width": 2}),
            )
            self.defs.insert(0, pattern)
        return f"url(#{pid})"

    def render(self) -> Svg:
        w, h = self.width, self.height
        head = start(
            "svg",
            {
                "xmlns": "http://www.w3.org/2000/svg",
                "class": f"cb-chart cb-{self.kind}",
                "viewBox": f"0 0 {num(w)} {num(h)}",
                "width": float(w),
                "height": float(h),
                "role": "img",
                "aria-labelledby": f"{self.uid}-title {self.uid}-desc",
                "font-family": FONT,
                "style": "max-width:100%;height:auto",
            },
        )
        body = [
            f'<title id="{self.uid}-title">{esc(self.title)}</title>',
            f'<desc id="{self.uid}-desc">{esc(self.desc)}</desc>',
            f"<defs>{''.join(self.defs)}</defs>" if self.defs else "",
            el("rect", {"width": float(w), "height": float(h), "fill": "#ffffff"}),
            label(
                16.0,
                28.0,
                self.title,
                size=TITLE_SIZE,
                max_width=w - 32,
                class_="chart-title",
                font_weight=600,
            ),
            *self.parts,
        ]
        return Svg(head + "".join(body) + "</svg>")


def summary(text: str, limit: int = 700) -> str:
    """A chart description for screen readers, cut at `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
