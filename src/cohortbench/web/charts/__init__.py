"""Server-side charts as self-contained, accessible inline SVG (no JavaScript, works offline, prints).

Every function returns an `Svg` (a `str` with `__html__`, so Jinja2 inserts it as markup) with a
<title>, a <desc> listing the values, labelled axes and a colour-blind-safe palette. User text is
escaped; missing values (None, NaN) are drawn as "n/a" marks or gaps, never as zeros; empty input
gives a chart that says "No data"; malformed input raises ValidationError.
"""

from cohortbench.web.charts._svg import OKABE_ITO, Svg
from cohortbench.web.charts.bars import bar_chart
from cohortbench.web.charts.forest import interval_plot
from cohortbench.web.charts.hbars import horizontal_bar_chart
from cohortbench.web.charts.histogram import histogram_chart
from cohortbench.web.charts.lines import line_chart, reliability_diagram
from cohortbench.web.charts.matrices import confusion_matrix_chart, heatmap

__all__ = [
    "OKABE_ITO",
    "Svg",
    "bar_chart",
    "confusion_matrix_chart",
    "heatmap",
    "histogram_chart",
    "horizontal_bar_chart",
    "interval_plot",
    "line_chart",
    "reliability_diagram",
]
