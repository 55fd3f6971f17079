"""Tests of the inline SVG charts: well-formed, accessible, escaped, honest about missing values.

Each sample chart is also written to charts/ in the test artifacts folder (tests/artifacts.py): one
.svg each and an index.html gallery, so that a person can look at them; the browser test renders
the gallery to PNG.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cohortbench.errors import ValidationError
from cohortbench.web.charts import (
    Svg,
    bar_chart,
    confusion_matrix_chart,
    heatmap,
    histogram_chart,
    horizontal_bar_chart,
    interval_plot,
    line_chart,
    reliability_diagram,
)
from tests.artifacts import ARTIFACTS as TEST_ARTIFACTS

NS = {"s": "http://www.w3.org/2000/svg"}
ARTIFACTS = TEST_ARTIFACTS / "charts"
EVIL = "<script>alert(1)</script>"
DILI = ["0 none", "1 mild", "2 moderate", "3 severe"]


def recall_bars(classes: list[str] = DILI) -> Svg:
    return bar_chart(
        classes,
        {"Baseline (out-of-the-box)": [0.93, None, 0.38, 0.44], "Finetuned": [0.97, 0.21, 0.59, 0.71]},
        intervals={
            "Baseline (out-of-the-box)": [(0.90, 0.95), None, (0.26, 0.51), (0.32, 0.57)],
            "Finetuned": [(0.95, 0.98), (0.05, 0.45), (0.46, 0.71), (0.60, 0.81)],
        },
        x_label="DILI severity class",
        y_label="Recall",
        title="Per-class recall on the holdout, 95% bootstrap intervals",
    )


def importance() -> Svg:
    return horizontal_bar_chart(
        [
            "Bile acids",
            "Liver enzymes (ALT, AST, ALP)",
            "Cumulative dose",
            "Demographics",
            "Lipids",
            "Kinase",
        ],
        [0.061, 0.142, 0.088, -0.004, 0.012, None],
        errors=[0.011, 0.019, 0.015, 0.006, 0.005, None],
        x_label="Drop in macro-F1 when the group is shuffled",
        title="Grouped permutation importance (mean ± sd over 10 repeats)",
    )


def confusion(normalize: bool = False) -> Svg:
    matrix = [[270, 6, 4, 2], [2, 1, 1, 0], [5, 2, 6, 1], [3, 1, 4, 12]]
    return confusion_matrix_chart(
        matrix,
        DILI,
        title=f"Confusion matrix, finetuned{' (row shares)' if normalize else ''}",
        normalize=normalize,
    )


def reliability() -> Svg:
    return reliability_diagram(
        {
            "Baseline": ([0.08, 0.25, 0.45, 0.66, 0.86, 0.97], [0.02, 0.12, 0.30, 0.41, 0.70, 0.88]),
            "Finetuned": ([0.06, 0.22, 0.41, 0.62, 0.81, 0.95], [0.05, 0.2, 0.43, 0.58, 0.83, 0.94]),
        },
        counts={"Baseline": [150, 60, 30, 25, 20, 35], "Finetuned": [170, 50, 28, 20, 22, 30]},
        title="Reliability diagram (top-label confidence)",
    )


def loss_curves(log_y: bool = False) -> Svg:
    epochs = range(30)
    return line_chart(
        {
            "Train": [1.3 * math.exp(-e / 8) + 0.12 for e in epochs],
            "Validation": [1.35 * math.exp(-e / 9) + 0.2 + (0.004 * e if e > 18 else 0) for e in epochs],
        },
        title="Training loss during fine-tuning",
        y_label="Cross-entropy loss",
        log_y=log_y,
    )


def histogram() -> Svg:
    return histogram_chart(
        [-math.inf, 20, 30, 40, 50, 60, 70, 80, math.inf],
        [None, 140, 262, 351, 388, 270, 171, None],
        x_label="Age (years)",
        title="Age at baseline, all patients",
    )


def correlations() -> Svg:
    names = ["ALT", "AST", "ALP", "Bilirubin", "GGT", "Albumin", "Dose", "Age"]
    matrix = [
        [
            None if (i, j) == (5, 7) else round(math.cos((i - j) * 0.7) * (1 if i == j else 0.8), 2)
            for j in range(8)
        ]
        for i in range(8)
    ]
    return heatmap(matrix, names, names, title="Correlation between selected features (train cohort)")


def forest() -> Svg:
    return interval_plot(
        [
            ("Contributor A · sklearn", 0.81, 0.76, 0.86),
            ("Contributor B · xgboost", 0.79, 0.73, 0.84),
            ("Contributor C · torch", 0.77, 0.70, 0.83),
            ("Internal baseline", 0.66, 0.59, 0.72),
            ("Contributor D (failed)", None, None, None),
        ],
        x_label="Macro-F1 on the holdout (finetuned)",
        title="Leaderboard: macro-F1 with 95% intervals",
        reference=0.70,
        reference_label="Claimed by the median contributor",
    )


SAMPLES: dict[str, Callable[[], Svg]] = {
    "bar_chart": recall_bars,
    "horizontal_bar_chart": importance,
    "confusion_matrix_chart": confusion,
    "confusion_matrix_normalized": lambda: confusion(True),
    "reliability_diagram": reliability,
    "line_chart": loss_curves,
    "line_chart_log": lambda: loss_curves(True),
    "histogram_chart": histogram,
    "heatmap": correlations,
    "interval_plot": forest,
}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def texts(root: ET.Element, cls: str) -> list[str]:
    return ["".join(e.itertext()) for e in by_class(root, cls)]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_chart_is_accessible_well_formed_svg(name: str) -> None:
    svg = SAMPLES[name]()
    root = parse(svg)
    assert isinstance(svg, Svg) and svg.markup == str(svg) and svg.__html__() == str(svg)
    assert root.get("role") == "img" and root.get("viewBox", "").startswith("0 0 ")
    title, desc = root.find("s:title", NS), root.find("s:desc", NS)
    assert title is not None and title.text and desc is not None and len(desc.text or "") > 20
    assert set(root.get("aria-labelledby", "").split()) == {title.get("id"), desc.get("id")}
    assert texts(root, "chart-title") == [title.text]
    sizes = [float(e.get("font-size", "99")) for e in root.iter("{http://www.w3.org/2000/svg}text")]
    assert min(sizes) >= 11, "no tiny fonts"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.svg").write_text(svg, encoding="utf-8")


def test_bar_chart_draws_bars_intervals_axes_and_na_marks() -> None:
    root = parse(recall_bars())
    assert texts(root, "axis-label") == ["Recall", "DILI severity class"]
    assert len(by_class(root, "bar")) == 7  # 8 values, one missing
    assert len(by_class(root, "error-bar")) == 7
    assert len(by_class(root, "na")) == 1 and texts(root, "na-label") == ["n/a"]
    assert {"Baseline (out-of-the-box)", "Finetuned", "95% interval"} <= set(texts(root, "legend-item"))
    assert texts(root, "tick-label")[:6] == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]


def test_bar_heights_follow_values() -> None:
    root = parse(bar_chart(["a", "b"], {"s": [0.25, 0.75]}, x_label="x", y_label="y", title="t"))
    low, high = (float(b.get("height", "0")) for b in by_class(root, "bar"))
    assert high == pytest.approx(3 * low, rel=0.02)


def test_missing_value_is_an_na_mark_not_a_zero_bar() -> None:
    root = parse(bar_chart(["a", "b"], {"s": [None, math.nan]}, x_label="x", y_label="y", title="t"))
    assert by_class(root, "bar") == []
    marks = by_class(root, "na-marker")
    assert len(marks) == 2 and all(float(m.get("height", "0")) > 10 for m in marks)
    assert all("url(#" in (m.get("fill") or "") for m in marks)  # hatched


def test_horizontal_bars_are_sorted_largest_first_with_na_last() -> None:
    root = parse(importance())
    rows = [t for t in texts(root, "tick-label") if not re.fullmatch(r"[−\d.,]+", t)]
    assert (
        rows[:3] == ["Liver enzymes (ALT, AST, ALP)", "Cumulative dose", "Bile acids"]
        and rows[-1] == "Kinase"
    )
    assert len(by_class(root, "bar")) == 5 and len(by_class(root, "na")) == 1
    assert len(by_class(root, "error-bar")) == 5
    assert texts(root, "axis-label") == ["Drop in macro-F1 when the group is shuffled"]
    assert "0.142" in texts(root, "value-label")


@pytest.mark.parametrize("normalize", [False, True])
def test_confusion_matrix_cells_counts_and_axis_titles(normalize: bool) -> None:
    root = parse(confusion(normalize))
    assert len(by_class(root, "cell")) == 16 and len(by_class(root, "diagonal")) == 4
    assert texts(root, "axis-label") == ["True class", "Predicted class"]
    values = texts(root, "cell-value")
    assert values[0] == ("0.96" if normalize else "270") and values[-1] == ("0.60" if normalize else "12")
    assert texts(root, "row-total") == ["n = 282", "n = 4", "n = 14", "n = 20"]


def test_confusion_matrix_rejects_bad_shapes_and_counts() -> None:
    with pytest.raises(ValidationError, match="rows"):
        confusion_matrix_chart([[1, 2]], ["a", "b"], title="t")
    with pytest.raises(ValidationError, match="whole counts"):
        confusion_matrix_chart([[1, -2], [0, 1]], ["a", "b"], title="t")


def test_reliability_diagram_has_diagonal_points_and_unit_axes() -> None:
    root = parse(reliability())
    assert len(by_class(root, "diagonal")) == 1
    assert len(by_class(root, "point")) == 12
    assert texts(root, "axis-label") == ["Observed frequency", "Mean predicted probability"]
    ticks = texts(root, "tick-label")
    assert ticks.count("0.0") == 2 and ticks.count("1.0") == 2
    radii = [float(c.get("r", "0")) for c in by_class(root, "point") if c.tag.endswith("circle")]
    assert max(radii) > 2 * min(radii)  # marker size follows the bin counts


def test_line_chart_breaks_at_gaps_and_supports_log_scale() -> None:
    root = parse(line_chart({"loss": [1.0, 0.5, None, 0.2, None, 0.1, 0.05]}, title="t"))
    assert len(by_class(root, "line")) == 2  # the lone point between the gaps gets no line
    assert len(by_class(root, "point")) == 5
    assert texts(root, "axis-label") == ["Training loss", "Epoch"]
    logged = parse(loss_curves(True))
    assert {"0.1", "1"} <= set(texts(logged, "tick-label"))
    assert len(by_class(logged, "series")) == 2 and len(by_class(logged, "legend-item")) == 2


def test_histogram_shows_suppressed_bins_as_hatched_threshold_marks() -> None:
    root = parse(histogram())
    assert len(by_class(root, "bar")) == 6 and len(by_class(root, "suppressed")) == 2
    assert texts(root, "suppressed-label") == ["<11", "<11"]
    assert "−∞" in texts(root, "tick-label") and "+∞" in texts(root, "tick-label")
    assert texts(root, "axis-label") == ["Patients", "Age (years)"]
    with pytest.raises(ValidationError, match="increasing"):
        histogram_chart([0, 2, 1], [5, 5], x_label="x", title="t")


def test_heatmap_cells_colour_bar_and_missing_cells() -> None:
    root = parse(correlations())
    cells = by_class(root, "cell")
    assert len(cells) == 64 and len(by_class(root, "colorbar")) == 1
    assert sum("url(#" in (c.get("fill") or "") for c in cells) == 1
    assert texts(root, "axis-label") == ["Pearson r"]
    diagonal = cells[0].get("fill")
    assert diagonal == "#b2182b"  # r = 1 is the deep red end of the ramp
    with pytest.raises(ValidationError, match="vmin"):
        heatmap([[0.0]], ["a"], ["a"], title="t", vmin=1, vmax=1)


def test_interval_plot_rows_reference_and_text_column() -> None:
    root = parse(forest())
    assert len(by_class(root, "interval")) == 4 and len(by_class(root, "point")) == 4
    assert len(by_class(root, "reference")) == 1
    assert "0.77 (0.70–0.83)" in texts(root, "value-label") and "n/a" in texts(root, "value-label")
    assert texts(root, "axis-label") == ["Macro-F1 on the holdout (finetuned)"]


EMPTY: dict[str, Callable[[], Svg]] = {
    "bar": lambda: bar_chart([], {}, x_label="x", y_label="y", title="t"),
    "hbar": lambda: horizontal_bar_chart([], [], x_label="x", title="t"),
    "confusion": lambda: confusion_matrix_chart([], [], title="t"),
    "reliability": lambda: reliability_diagram({"m": ([math.nan], [0.5])}, title="t"),
    "line": lambda: line_chart({"m": [None, math.nan]}, title="t"),
    "histogram": lambda: histogram_chart([], [], x_label="x", title="t"),
    "heatmap": lambda: heatmap([], [], [], title="t"),
    "interval": lambda: interval_plot([], x_label="x", title="t"),
}


@pytest.mark.parametrize("kind", sorted(EMPTY))
def test_empty_input_says_no_data(kind: str) -> None:
    root = parse(EMPTY[kind]())
    assert texts(root, "no-data") == ["No data"] and texts(root, "chart-title") == ["t"]


MALICIOUS: dict[str, Callable[[str], Svg]] = {
    "bar": lambda s: bar_chart([s], {s: [0.5]}, intervals={s: [(0.4, 0.6)]}, x_label=s, y_label=s, title=s),
    "hbar": lambda s: horizontal_bar_chart([s], [1.0], x_label=s, title=s),
    "confusion": lambda s: confusion_matrix_chart([[1]], [s], title=s),
    "reliability": lambda s: reliability_diagram({s: ([0.5], [0.5])}, title=s),
    "line": lambda s: line_chart({s: [1.0, 2.0], "b": [1.0, 1.5]}, title=s, x_label=s, y_label=s),
    "histogram": lambda s: histogram_chart([0, 1], [None], x_label=s, y_label=s, title=s),
    "heatmap": lambda s: heatmap([[0.5]], [s], [s], title=s, colorbar_label=s),
    "interval": lambda s: interval_plot(
        [(s, 0.5, 0.4, 0.6)], x_label=s, title=s, reference=0.5, reference_label=s
    ),
    "empty": lambda s: bar_chart([], {}, x_label=s, y_label=s, title=s),
}


@pytest.mark.parametrize("kind", sorted(MALICIOUS))
def test_user_text_is_escaped(kind: str) -> None:
    nasty = EVIL + '" onload="x()\' & \x00\x1b'
    svg = MALICIOUS[kind](nasty)
    root = parse(svg)  # control characters removed, quotes and ampersands escaped
    assert "<script" not in svg.lower() and 'onload="' not in svg
    assert any(EVIL in t for t in root.itertext())


def test_bad_input_raises_validation_errors_that_name_the_problem() -> None:
    with pytest.raises(ValidationError, match=r"series 's' has 1 values, expected 2"):
        bar_chart(["a", "b"], {"s": [0.5]}, x_label="x", y_label="y", title="t")
    with pytest.raises(ValidationError, match="not a number"):
        bar_chart(["a"], {"s": ["high"]}, x_label="x", y_label="y", title="t")  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="unknown series"):
        bar_chart(["a"], {"s": [0.5]}, intervals={"z": [(0, 1)]}, x_label="x", y_label="y", title="t")
    with pytest.raises(ValidationError, match="above high"):
        interval_plot([("a", 0.5, 0.9, 0.1)], x_label="x", title="t")
    with pytest.raises(ValidationError, match=r"\[0, 1\]"):
        reliability_diagram({"m": ([1.5], [0.5])}, title="t")


def test_ids_are_distinct_between_charts_so_they_can_share_a_page() -> None:
    ids = [re.findall(r'id="([^"]+)"', SAMPLES[name]()) for name in SAMPLES]
    flat = [i for group in ids for i in group]
    assert len(flat) == len(set(flat))


def write_gallery() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    figures = "\n".join(f"<figure><figcaption>{n}</figcaption>{SAMPLES[n]()}</figure>" for n in SAMPLES)
    page = ARTIFACTS / "index.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>cohortbench charts</title><style>"
        "body{font-family:system-ui,sans-serif;margin:16px;background:#f3f3f3}"
        "main{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}"
        "figure{margin:0;background:#fff;padding:8px;border:1px solid #ddd}"
        "figcaption{font:12px monospace;color:#555}</style></head><body><main>"
        f"{figures}</main></body></html>",
        encoding="utf-8",
    )
    return page


def test_gallery_page_holds_every_sample() -> None:
    page = write_gallery()
    assert page.read_text(encoding="utf-8").count("<svg ") == len(SAMPLES)


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_gallery_renders_in_headless_chromium() -> None:
    page, png = write_gallery(), ARTIFACTS / "index.png"
    png.unlink(missing_ok=True)
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--screenshot={png}", "--window-size=1400,2600", page.as_uri()]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=90)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000


def test_jinja2_inserts_charts_as_markup_and_escapes_plain_strings() -> None:
    template = jinja2.Environment(autoescape=True).from_string("<div>{{ chart }}</div>{{ text }}")
    svg = forest()
    html = template.render(chart=svg, text=str(svg)[:20])
    assert html.startswith("<div><svg ") and str(svg) in html and "&lt;svg" in html


def test_lone_point_and_constant_series_stay_inside_the_plot() -> None:
    root = parse(line_chart({"loss": [0.5]}, title="t"))
    (point,) = by_class(root, "point")
    grid = [float(g.get("y1", "0")) for g in by_class(root, "grid")]
    assert min(grid) < float(point.get("cy", "0")) < max(grid)
    assert texts(root, "tick-label")[-1] == "1"  # the only epoch


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=12), st.one_of(st.none(), st.floats(-1e6, 1e6), st.just(math.nan))),
        min_size=1,
        max_size=9,
    )
)
def test_any_values_give_well_formed_charts_with_one_mark_per_value(
    rows: list[tuple[str, float | None]],
) -> None:
    names, values = [n for n, _ in rows], [v for _, v in rows]
    present = sum(v is not None and not math.isnan(v) for v in values)
    bars = parse(bar_chart(names, {"s": values}, x_label="x", y_label="y", y_range=None, title="t"))
    assert len(by_class(bars, "bar")) == present and len(by_class(bars, "na")) == len(values) - present
    hbars = parse(horizontal_bar_chart(names, values, x_label="x", title="t"))
    assert len(by_class(hbars, "bar")) == present
    edges = list(range(len(values) + 1))
    counts = [None if v is None or math.isnan(v) else abs(round(v)) for v in values]
    hist = parse(histogram_chart(edges, counts, x_label="x", title="t"))
    assert (
        len(by_class(hist, "bar")) == present and len(by_class(hist, "suppressed")) == len(values) - present
    )
    parse(line_chart({"a": values, "b": values[::-1]}, title="t"))
    parse(interval_plot([(n, v, v, v) for n, v in rows], x_label="x", title="t"))
