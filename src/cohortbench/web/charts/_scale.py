"""Scales and ticks: map data to pixels, choose round tick values and format them for people."""

from __future__ import annotations

import math
from dataclasses import dataclass

MINUS = "\u2212"  # a typographic minus reads better than a hyphen in tick labels


def nice_step(span: float, target: int) -> float:
    """A 1, 2, 2.5 or 5 × 10^k step that cuts `span` into about `target` intervals."""
    raw = span / max(1, target)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power * 1.0000001:
            return factor * power
    return 10.0 * power


def nice_domain(lo: float, hi: float, *, target: int = 5) -> tuple[float, float, float]:
    """(lo, hi, step) widened outward to round tick values; a zero span gets a unit around it."""
    if hi < lo:
        lo, hi = hi, lo
    if hi - lo < 1e-12:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, target)
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step, step


def ticks(lo: float, hi: float, step: float) -> list[float]:
    """The multiples of `step` from lo to hi inclusive."""
    count = round((hi - lo) / step)
    return [lo + i * step for i in range(count + 1)]


def decimals_for(step: float) -> int:
    """Fewest decimals that show every multiple of `step` exactly."""
    for d in range(0, 7):
        if abs(round(step, d) - step) < 1e-9 * max(1.0, abs(step)):
            return d
    return 6


def fmt_tick(value: float, step: float) -> str:
    """A tick label with just enough decimals, thousands separators and a real minus sign."""
    text = f"{abs(value):,.{decimals_for(step)}f}"
    negative = value < 0 and any(ch not in "0.," for ch in text)
    return MINUS + text if negative else text


def fixed_decimals(values: list[float]) -> int:
    """One number of decimals for a column of values, from the largest (0.81 and 0.70, not 0.7)."""
    biggest = max((abs(v) for v in values), default=0.0)
    return 0 if biggest >= 100 else 1 if biggest >= 10 else 2 if biggest >= 0.1 else 3


def fmt_fixed(value: float, decimals: int) -> str:
    """A value with a fixed number of decimals, thousands separators and a real minus sign."""
    text = f"{abs(value):,.{decimals}f}"
    return (MINUS if value < 0 and any(ch not in "0.," for ch in text) else "") + text


def fmt_value(value: float) -> str:
    """A data value with three significant digits (what a person compares at a glance)."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return "n/a" if math.isnan(value) else (MINUS if value < 0 else "") + "∞"
    magnitude = math.floor(math.log10(abs(value)))
    digits = max(0, 2 - magnitude)
    text = f"{abs(value):,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return (MINUS if value < 0 and text != "0" else "") + text


@dataclass(frozen=True)
class Linear:
    """Maps [d0, d1] onto [r0, r1]; values outside are clamped so marks stay in the plot."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        t = (value - self.d0) / (self.d1 - self.d0)
        return self.r0 + min(1.0, max(0.0, t)) * (self.r1 - self.r0)


@dataclass(frozen=True)
class Log:
    """Base-10 logarithmic counterpart of `Linear` (for loss curves spanning decades)."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        a, b = math.log10(self.d0), math.log10(self.d1)
        t = (math.log10(max(value, self.d0)) - a) / (b - a)
        return self.r0 + min(1.0, max(0.0, t)) * (self.r1 - self.r0)


def log_domain(lo: float, hi: float) -> tuple[float, float, list[float]]:
    """The tightest 1-2-5 (or decade) marks around [lo, hi], and the marks in between."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    b += b == a
    factors = (1.0, 2.0, 5.0) if b - a <= 2 else (1.0,)
    marks = [f * 10.0**k for k in range(a, b + 1) for f in factors if f * 10.0**k <= 10.0**b]
    below = [m for m in marks if m <= lo * (1 + 1e-9)]
    above = [m for m in marks if m >= hi * (1 - 1e-9)]
    low, high = below[-1], above[0]
    if high <= low:
        high = above[1] if len(above) > 1 else low * 10
    return low, high, [m for m in marks if low <= m <= high]


def fmt_log_tick(value: float) -> str:
    """Log-axis labels: plain numbers between 0.001 and 10,000, powers of ten beyond."""
    if 1e-3 <= value <= 1e4:
        return f"{value:,.{max(0, -math.floor(math.log10(value)))}f}"
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")


def value_range(
    values: list[float], fixed: tuple[float, float] | None, *, include_zero: bool = True
) -> tuple[float, float, list[float], float]:
    """(lo, hi, tick values, step) for a value axis: the fixed range, or a round one around the data."""
    if fixed is not None:
        lo, hi = float(fixed[0]), float(fixed[1])
        step = nice_step(hi - lo, 5) if hi > lo else 1.0
        first = math.ceil(lo / step - 1e-9) * step
        return lo, hi, [t for t in ticks(first, hi, step) if t <= hi + 1e-9], step
    data = [*values, 0.0] if include_zero else values or [0.0]
    lo, hi, step = nice_domain(min(data), max(data))
    return lo, hi, ticks(lo, hi, step), step
