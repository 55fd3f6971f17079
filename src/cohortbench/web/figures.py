"""Charts of the pages and the report, drawn from what the service releases (never from records).

Each function takes the plain dicts the service returns (the scorer's Result.to_dict(), the EDA
release, a leaderboard) and calls one function of cohortbench.web.charts with labelled axes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

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

PHASE_TITLES = {"baseline": "Out-of-the-box", "finetune": "After fine-tuning"}


def class_distribution(eda: Mapping[str, Any], labels: Mapping[str, str]) -> Svg:
    """Patients per class from the released class table (suppressed cells show as n/a)."""
    cells = eda["class_distribution"]["cells"]
    names = [labels.get(c, c) for c in cells]
    counts = [cells[c]["value"] for c in cells]
    return bar_chart(
        names,
        {"Patients": counts},
        x_label="Class",
        y_label="Patients",
        y_range=None,
        title="Class distribution (whole cohort)",
    )


def group_profiles(eda: Mapping[str, Any], labels: Mapping[str, str]) -> Svg:
    """Mean z-score of each feature group per class: which families of features separate the classes."""
    overview = eda.get("group_overview") or {}
    groups = list(overview)
    classes = list(eda["class_distribution"]["cells"])
    series = {
        labels.get(c, c): [overview[g]["class_profile"].get(c, {}).get("value") for g in groups]
        for c in classes
    }
    return bar_chart(
        groups,
        series,
        x_label="Feature group",
        y_label="Mean z-score of the group",
        y_range=None,
        title="Feature groups by class",
    )


def feature_histogram(feature: str, histogram: Mapping[str, Any]) -> Svg:
    """A released (merged-bin) histogram; open outer bins arrive as None edges."""
    edges = list(histogram.get("edges") or [])
    if len(edges) >= 2:
        edges[0] = -math.inf if edges[0] is None else edges[0]
        edges[-1] = math.inf if edges[-1] is None else edges[-1]
    return histogram_chart(edges, list(histogram.get("counts") or []), x_label=feature, title=f"{feature}")


def feature_by_class(feature: str, summary: Mapping[str, Any], labels: Mapping[str, str]) -> Svg:
    """Per class: mean, and the 5th–95th percentile range, of one feature (released statistics)."""
    rows = [
        (labels.get(c, c), s["mean"]["value"], s["p5"]["value"], s["p95"]["value"])
        for c, s in summary.items()
    ]
    return interval_plot(
        rows, x_label=feature, title=f"{feature} by class", value_header="Mean (5th–95th pct)"
    )


def correlation(eda: Mapping[str, Any]) -> Svg:
    heat = eda["heatmap"]
    names = [f"{str(n)[6:]} (group)" if str(n).startswith("group:") else str(n) for n in heat["labels"]]
    names = names if heat["matrix"] else []
    return heatmap(heat["matrix"], names, names, title="Correlation of group scores and top features")


def confusion(result: Mapping[str, Any], phase: str, labels: Mapping[str, str]) -> Svg:
    names = [labels.get(c, c) for c in result["classes"]]
    return confusion_matrix_chart(
        result["confusion"], names, title=f"Confusion matrix · {PHASE_TITLES[phase]}"
    )


def recall_bars(results: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str]) -> Svg:
    """Recall per class with its 95% interval, baseline beside finetune."""
    first = next(iter(results.values()))
    classes = [pc["name"] for pc in first["per_class"]]
    series, intervals = {}, {}
    for phase, result in results.items():
        recalls = [pc["recall"] for pc in result["per_class"]]
        series[PHASE_TITLES[phase]] = [r["value"] for r in recalls]
        intervals[PHASE_TITLES[phase]] = [_pair(r) for r in recalls]
    return bar_chart(
        [labels.get(c, c) for c in classes],
        series,
        intervals=intervals,
        x_label="Class",
        y_label="Recall",
        title="Recall per class",
    )


def released_recall_bars(runs: Mapping[str, Any], labels: Mapping[str, str]) -> Svg:
    """Recall per class as released to a contributor (on the workspace's grid, no intervals)."""
    first = next(iter(runs.values()))
    classes = [pc.name for pc in first.per_class]
    series = {PHASE_TITLES[phase]: [pc.recall for pc in run.per_class] for phase, run in runs.items()}
    return bar_chart(
        [labels.get(c, c) for c in classes],
        series,
        x_label="Class",
        y_label="Recall",
        title="Recall per class",
    )


def _pair(estimate: Mapping[str, Any]) -> tuple[float, float] | None:
    low, high = estimate.get("low"), estimate.get("high")
    return None if low is None or high is None else (float(low), float(high))


def reliability(results: Mapping[str, Mapping[str, Any]]) -> Svg:
    """Top-label reliability (equal-width bins) of each phase."""
    curves: dict[str, tuple[Sequence[float], Sequence[float]]] = {}
    counts: dict[str, Sequence[int]] = {}
    for phase, result in results.items():
        for curve in result["calibration"]["curves"]:
            if curve["label"] == "top-label" and curve["strategy"] == "equal_width":
                curves[PHASE_TITLES[phase]] = (curve["mean_predicted"], curve["fraction_positive"])
                counts[PHASE_TITLES[phase]] = curve["count"]
    return reliability_diagram(curves, counts=counts, title="Reliability (top label)")


TOP_FEATURES_CHARTED = 20


def group_importance(result: Mapping[str, Any], phase: str) -> Svg:
    """Drop in macro-F1 when a feature group is shuffled (mean ± sd over repeats); per feature (the
    TOP_FEATURES_CHARTED largest) when the workspace has a single group."""
    items = list(result["importance"])
    groups = [i for i in items if i["kind"] == "group"]
    features = [i for i in items if i["kind"] == "feature"]
    per_feature = len(groups) < 2 and bool(features)
    if per_feature:
        shown = sorted(features, key=lambda i: -(i["macro_f1"]["mean"] or 0.0))[:TOP_FEATURES_CHARTED]
    else:
        shown = groups or items
    return horizontal_bar_chart(
        [i["name"] for i in shown],
        [i["macro_f1"]["mean"] for i in shown],
        errors=[i["macro_f1"]["std"] for i in shown],
        x_label="Drop in macro-F1 when shuffled",
        title=f"{'Feature' if per_feature else 'Feature-group'} importance · {PHASE_TITLES[phase]}",
    )


def training_loss(losses: Sequence[float]) -> Svg:
    return line_chart({"Training loss": list(losses)}, x_label="Epoch", y_label="Loss", title="Training loss")


def leaderboard_forest(rows: Sequence[Any], metric_label: str) -> Svg:
    """Each row's best score (after fine-tuning, else out-of-the-box) with its 95% interval."""
    points = []
    for row in rows:
        best = row.finetuned or row.baseline
        if best is not None:
            points.append((f"{row.rank}. {row.model}", best.value, best.low, best.high))
    return interval_plot(points, x_label=metric_label, title=f"{metric_label} with 95% intervals")


def _critical_curves(results: Mapping[str, Mapping[str, Any]], which: str) -> dict[str, tuple[Any, Any]]:
    """One stored curve ("roc" or "pr") of the critical class per scored phase."""
    return {
        PHASE_TITLES[p]: (r["critical_curves"][which]["x"], r["critical_curves"][which]["y"])
        for p, r in results.items()
        if r.get("critical_curves")
    }


def roc_curves(results: Mapping[str, Mapping[str, Any]], critical: str) -> Svg:
    """ROC of the critical class against the rest, one line per phase."""
    return reliability_diagram(
        _critical_curves(results, "roc"),
        title=f"ROC · class {critical} vs rest",
        x_label="False-positive rate (1 - specificity)",
        y_label="Sensitivity",
        reference="Chance",
    )


def pr_curves(results: Mapping[str, Mapping[str, Any]], critical: str) -> Svg:
    """Precision-recall of the critical class, one line per phase (no chance diagonal: it is the prevalence)."""
    return reliability_diagram(
        _critical_curves(results, "pr"),
        title=f"Precision-recall · class {critical}",
        x_label="Recall",
        y_label="Precision",
        reference=None,
    )


def drift_psi(report: Any, top: int = 15) -> Svg:
    """The features with the largest PSI of a drift report (owner-only pages)."""
    features = sorted(report.features, key=lambda f: -f.psi)[:top]
    return horizontal_bar_chart(
        [f"{f.name}{' *' if f.flagged else ''}" for f in features],
        [f.psi for f in features],
        x_label="Population stability index (* flagged by KS at the FDR level)",
        title=f"Largest shifts · {report.current}",
    )


def holdup(rows: Sequence[Any], metric_label: str) -> Svg:
    """Each model's score per cohort version with its interval (owner's leaderboard)."""
    points = [
        (f"{r.contributor} · {r.model} · v{p.version}{' ▼' if p.dropped else ''}", p.value, p.low, p.high)
        for r in rows
        for p in r.points
    ]
    return interval_plot(points, x_label=metric_label, title="Score per cohort version (▼ significant drop)")
