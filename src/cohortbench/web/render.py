"""The Jinja2 environment of the pages and the report, and the filters that format numbers.

Numbers are shown the same way everywhere (two decimals, an en dash for missing ones, the 95%
interval beside its estimate) so a reader can compare a page with the evidence report.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

STATIC_DIR = Path(__file__).parent / "static"
MISSING = "–"


def fmt(value: Any, digits: int = 2) -> str:
    """A number with `digits` decimals; None and NaN as an en dash (never as 0)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):,.{digits}f}"


def _part(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)


def interval(item: Any, digits: int = 2) -> Markup:
    """`0.72 [0.65–0.79]` from anything with value / low / high (a dict or a dataclass)."""
    if item is None or _part(item, "value") is None:
        return Markup('<span class="na">%s</span>') % MISSING
    value, low, high = _part(item, "value"), _part(item, "low"), _part(item, "high")
    shown = Markup('<span class="est">%s</span>') % fmt(value, digits)
    if low is None or high is None:
        return shown
    return shown + Markup(' <span class="ci">[%s–%s]</span>') % (fmt(low, digits), fmt(high, digits))


def released(item: Any, digits: int = 2) -> Markup:
    """A released number (see privacy.Released): exact ones formatted, rounded ones as released, else why not."""
    if not item:
        return Markup('<span class="na">%s</span>') % MISSING
    value, protection = item.get("value"), item.get("protection", "")
    if value is None:
        return Markup('<span class="na" title="%s">not released</span>') % str(protection)
    if protection == "exact":
        return Markup("%s") % fmt(int(value) if float(value).is_integer() else value, digits)
    return Markup('<span title="%s">%s</span>') % (protection, f"{float(value):,.6g}")


def sig(value: Any, digits: int = 3) -> str:
    """A quantity spanning orders of magnitude (compute in PF): `digits` significant digits, never 0.00."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    return f"{float(value):.{digits}g}"


def pct(value: Any) -> str:
    return MISSING if value is None else f"{100.0 * float(value):.1f}%"


def day(value: date | datetime | str | None) -> str:
    """Dates as the brief's cards show them, unambiguous: 18 Feb 2027."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%d %b %Y")


def short_hash(value: str | None, n: int = 12) -> str:
    return MISSING if not value else value[:n]


@cache
def environment() -> Environment:
    """One shared environment: autoescaped, strict about undefined names (a typo fails a test)."""
    env = Environment(
        loader=PackageLoader("cohortbench.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        fmt=fmt, sig=sig, interval=interval, released=released, pct=pct, day=day, short_hash=short_hash
    )
    env.globals["stylesheet"] = stylesheet
    return env


@cache
def stylesheet() -> Markup:
    """The one stylesheet, for inlining into the self-contained report."""
    css = (STATIC_DIR / "style.css").read_text(encoding="utf-8").replace("</", "<\\/")
    return Markup(css)  # noqa: S704 - our own file, and "</" cannot close the <style> element


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
