"""What each page shows: a context dict built from the service layer for one signed-in user.

Nothing here reads cohort rows: the overview and EDA come from the privacy module's released
aggregates (service.eda), scores from the service's role-aware views.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cohortbench.scoring.registry import METRICS
from cohortbench.service import drift, eda, holdup, release, submissions
from cohortbench.service.access import get_workspace
from cohortbench.service.platform import Platform
from cohortbench.service.public import IntervalOut, SubmissionOut, SubmissionOwner
from cohortbench.service.workspaces.notes import notes_of
from cohortbench.store.models import User, Workspace
from cohortbench.web import figures
from cohortbench.web.sorting import sort_rows

CHARTED_FEATURES = 1  # per group, with a by-class plot and a histogram
TABLED_FEATURES = 2  # per group, in the summary table
FEATURES_PER_PAGE = 50  # in the list of every feature


def class_labels(workspace: Workspace) -> dict[str, str]:
    """Display names of the classes ("3" -> "3 · severe") when the owner set `class_labels`, else the names."""
    given = notes_of(workspace).class_labels
    return {c: f"{c} · {given[c]}" if c in given and given[c] != c else c for c in workspace.classes}


def critical_label(workspace: Workspace) -> str:
    """The critical-class recall column's title: "Severe DILI recall" when named, else "Recall of class 3"."""
    given = notes_of(workspace).class_labels
    critical = workspace.critical_class or ""
    return f"{given[critical]} recall" if critical in given else f"Recall of class {critical}"


METRIC_LABELS = {name: metric.label for name, metric in METRICS.items()}


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name.replace("_", " "))


def workspaces_page(session: Session, user: User) -> dict[str, Any]:
    return {"cards": release.cards(session, actor=user)}


def _workspace_base(session: Session, user: User, name: str) -> tuple[Workspace, dict[str, Any]]:
    workspace, role = get_workspace(session, user, name)
    card = release.card(session, workspace, user, role)
    return workspace, {
        "workspace": workspace,
        "card": card,
        "role": role,
        "labels": class_labels(workspace),
        "critical_label": critical_label(workspace),
        "metric_label": metric_label(workspace.primary_metric),
    }


def overview_page(platform: Platform, session: Session, user: User, name: str) -> dict[str, Any]:
    """About, cohort, classes, submissions; for the owner each member's use of the quota."""
    _workspace, ctx = _workspace_base(session, user, name)
    if ctx["role"] == "owner":
        from cohortbench.service.usage import member_usage

        ctx["members"] = member_usage(session, actor=user, name=name, quota=ctx["card"].quota)
    aggregates = eda.workspace_eda(platform, session, actor=user, name=name)
    ctx.update(
        eda=aggregates,
        class_chart=figures.class_distribution(aggregates, ctx["labels"]),
        versions=release.versions(platform, session, actor=user, workspace_name=name),
        submissions=release.summaries(
            session, actor=user, workspace_name=name, grid_g_per_kwh=platform.settings.grid_g_per_kwh
        ),
    )
    return ctx


def eda_page(
    platform: Platform, session: Session, user: User, name: str, *, q: str = "", p: int = 1
) -> dict[str, Any]:
    """Class distribution, feature groups by class, the top features of each group, and every feature
    (searched by `q`, paged by `p`)."""
    workspace, ctx = _workspace_base(session, user, name)
    release = eda.workspace_eda(platform, session, actor=user, name=name)
    labels = ctx["labels"]
    overview = release.get("group_overview") or {}
    features = [
        _feature(release, g, f, labels)
        for g, e in overview.items()
        for f in e["top_features"][:CHARTED_FEATURES]
    ]
    tabled = [
        (g, f, release["summaries"].get(f, {}))
        for g, e in overview.items()
        for f in e["top_features"][:TABLED_FEATURES]
    ]
    ctx.update(
        eda=release,
        class_chart=figures.class_distribution(release, labels),
        group_chart=figures.group_profiles(release, labels),
        heatmap=figures.correlation(release),
        features=features,
        tabled=tabled,
        listing=feature_listing(workspace.feature_groups or {}, release["summaries"], q=q, page=p),
    )
    if ctx["role"] == "owner":
        ctx.update(owner_drift(platform, session, user, name))
    return ctx


def feature_listing(
    groups: dict[str, list[str]], summaries: dict[str, Any], *, q: str, page: int
) -> dict[str, Any]:
    """One page of every feature (group, per-class released summary), filtered by a name/group search."""
    needle = q.strip().lower()
    rows = [
        (g, f, summaries.get(f, {}))
        for g, cols in groups.items()
        for f in cols
        if not needle or needle in f.lower() or needle in g.lower()
    ]
    pages = max(1, -(-len(rows) // FEATURES_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * FEATURES_PER_PAGE
    return {
        "rows": rows[start : start + FEATURES_PER_PAGE],
        "q": q,
        "page": page,
        "pages": pages,
        "matched": len(rows),
        "total": sum(len(c) for c in groups.values()),
    }


def owner_drift(platform: Platform, session: Session, user: User, name: str) -> dict[str, Any]:
    """The owner's drift reports and their charts (EDA page, evidence report); call for owners only."""
    latest = drift.latest(platform, session, actor=user, name=name)
    charts = {
        "batch": figures.drift_psi(latest.batch) if latest.batch else None,
        "split": figures.drift_psi(latest.split),
    }
    return {"drift": latest, "drift_charts": charts}


def _feature(release: dict[str, Any], group: str, feature: str, labels: dict[str, str]) -> dict[str, Any]:
    summary = release["summaries"].get(feature, {})
    return {
        "group": group,
        "name": feature,
        "summary": summary,
        "by_class": figures.feature_by_class(feature, summary, labels),
        "histogram": figures.feature_histogram(feature, release["histograms"].get(feature, {})),
    }


def leaderboard_page(
    platform: Platform,
    session: Session,
    user: User,
    name: str,
    sort: str | None,
    order: str | None,
    version: int | None = None,
) -> dict[str, Any]:
    _workspace, ctx = _workspace_base(session, user, name)
    board = release.leaderboard(
        session,
        actor=user,
        workspace_name=name,
        grid_g_per_kwh=platform.settings.grid_g_per_kwh,
        version=version,
    )
    ctx["versions"] = release.versions(platform, session, actor=user, workspace_name=name)
    if ctx["role"] == "owner" and ctx["versions"].count > 1:
        series = holdup.holds_up(platform, session, actor=user, name=name)
        ctx.update(holdup=series, holdup_chart=figures.holdup(series, ctx["metric_label"]))
    rows, sort_key, descending = sort_rows(board.rows, sort, order, board.metric)
    ctx.update(
        board=board,
        rows=rows,
        sort=sort_key,
        descending=descending,
        forest=figures.leaderboard_forest(board.rows, ctx["metric_label"]),
    )
    return ctx


def submission_page(platform: Platform, session: Session, user: User, submission_id: int) -> dict[str, Any]:
    """A submission's runs: every chart for the owner; the released numbers for anyone else.

    The page renders only the model `service.release` built for this user; `may_report` says
    whether the evidence report is open to the user.
    """
    view = release.submission(
        session, actor=user, submission_id=submission_id, grid_g_per_kwh=platform.settings.grid_g_per_kwh
    )
    workspace, ctx = _workspace_base(session, user, view.workspace)
    labels = ctx["labels"]
    ctx.update(
        view=view,
        runs={r.phase: r for r in view.runs},
        summary=_summary(view, workspace.primary_metric),
        may_report=may_report(session, user, submission_id),
        headline_rows=headline_rows(ctx["critical_label"], workspace.critical_class or ""),
    )
    if isinstance(view, SubmissionOwner):
        scored = {r.phase: r.result for r in view.runs if r.result}
        ctx.update(
            charts=_submission_charts(view, scored, labels, workspace.critical_class or ""),
            transfer=_transfer(view, scored, workspace.primary_metric),
            resources={r.phase: resource_rows(r.resources) for r in view.runs},
            operating_points={p: operating_rows(r) for p, r in scored.items()},
        )
    else:
        released = {r.phase: r for r in view.runs if r.per_class}
        ctx.update(
            charts={"recall": figures.released_recall_bars(released, labels) if released else None},
            transfer=view.transfer,
            resources={r.phase: _bucket_rows(r) for r in view.runs},
        )
    return ctx


def _summary(view: SubmissionOut, metric: str) -> dict[str, IntervalOut | bool | None]:
    """The report's summary line: primary score per phase and critical recall of the final phase."""
    out: dict[str, IntervalOut | bool | None] = {}
    for run in view.runs:
        head = run.headline or {}
        for key, name in ((metric, run.phase), ("critical_recall", "critical")):
            item = head.get(key)
            if item is not None:
                out[name] = item if isinstance(item, IntervalOut) else IntervalOut(**item)
    out["negative_transfer"] = view.transfer.negative_transfer if view.transfer else None
    return out


def _bucket_rows(run: Any) -> list[tuple[str, str]]:
    return [
        (label, value)
        for label, value in (("Wall time", run.wall_time), ("Peak memory", run.memory))
        if value
    ]


#: the results table's rows in order, titled from the metric registry ("" = named for the class)
HEADLINE_ROWS = tuple(
    (name, "" if name in ("critical_recall", "critical_roc_auc") else METRICS[name].title)
    for name in (
        "macro_f1",
        "critical_recall",
        "balanced_accuracy",
        "accuracy",
        "weighted_f1",
        "critical_roc_auc",
        "ece",
        "brier",
        "log_loss",
    )
)


def headline_rows(critical_label: str, critical_class: str) -> list[tuple[str, str]]:
    """(key in Result.headline, row title) of the results table, critical-class rows named for the class."""
    names = {
        "critical_recall": critical_label,
        "critical_roc_auc": f"ROC AUC of class {critical_class} vs rest",
    }
    return [(key, label or names[key]) for key, label in HEADLINE_ROWS]


RESOURCE_LABELS = {
    "cpu_seconds": ("CPU time", "{:,.1f} s"),
    "gpu_seconds": ("GPU time", "{:,.1f} s"),
    "wall_seconds": ("Wall time", "{:,.1f} s"),
    "peak_memory_bytes": ("Peak memory", "bytes"),
    "flop": ("Compute", "flop"),
    "flop_method": ("Compute measured as", "{}"),
    "wall_time": ("Wall time", "{}"),
    "memory": ("Peak memory", "{}"),
    "outcome": ("Exit", "{}"),
    "compute_pflop": ("Compute", "{:g} PF"),
    "n_parameters": ("Model size (reported by the model)", "{:,} parameters or tree nodes"),
}


def resource_rows(resources: dict[str, Any]) -> list[tuple[str, str]]:
    """Readable (label, value) pairs of a run's resources: exact for the owner, buckets for contributors."""
    rows = []
    for key, value in resources.items():
        label, form = RESOURCE_LABELS.get(key, (key.replace("_", " "), "{}"))
        if value is None:
            continue
        if form == "bytes":
            text = f"{float(value) / 2**30:.2f} GiB"
        elif form == "flop":
            text = f"{float(value) / 1e15:.3g} PF"
        else:
            text = form.format(value)
        rows.append((label, text))
    return rows


def _submission_charts(
    view: SubmissionOwner, scored: dict[str, Any], labels: dict[str, str], critical: str
) -> dict[str, Any]:
    charts: dict[str, Any] = {"confusion": {p: figures.confusion(r, p, labels) for p, r in scored.items()}}
    if any(r.get("critical_curves") for r in scored.values()):
        charts["roc"] = figures.roc_curves(scored, labels.get(critical, critical))
        charts["pr"] = figures.pr_curves(scored, labels.get(critical, critical))
    if scored:
        charts["recall"] = figures.recall_bars(scored, labels)
        charts["reliability"] = figures.reliability(scored)
        phase = "finetune" if "finetune" in scored else "baseline"
        charts["importance"] = figures.group_importance(scored[phase], phase)
    losses = next((r.losses for r in view.runs if r.phase == "finetune" and r.losses), None)
    charts["loss"] = figures.training_loss(losses) if losses else None
    return charts


def _transfer(view: SubmissionOwner, scored: dict[str, Any], metric: str) -> Any:
    """Transfer ratios and the negative-transfer check: the paired verdict stored when the submission
    finished (service.paired_transfer), else from the stored Results by interval overlap."""
    from cohortbench.scoring import Result, Transfer, transfer

    if view.paired_transfer is not None:
        return Transfer.from_dict(view.paired_transfer)
    if "baseline" not in scored:
        return None
    base = Result.from_dict(scored["baseline"])
    fine = Result.from_dict(scored["finetune"]) if "finetune" in scored else None
    return transfer(baseline=base, finetune=fine, claimed=view.claimed.get(metric), metric=metric)


def may_report(session: Session, user: User, submission_id: int) -> bool:
    """The evidence report is for the workspace owner and for the contributor who submitted (not teammates)."""
    submission, _workspace, role = submissions.get_submission(
        session, actor=user, submission_id=submission_id
    )
    return role == "owner" or submission.user_id == user.id


def operating_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Sensitivity, specificity, PPV and NPV at each target specificity, with exact 95% intervals.

    As ToxPredictor-style reporting quotes it ("88 % sensitivity at 100 % specificity"); from the
    four cells the scorer stored at each operating point (owner view: cells of 1-10 included).
    """
    from cohortbench.scoring.exact import exact_interval

    rows = []
    for op in result.get("operating_points") or []:
        if op.get("tp") is None:
            continue
        tp, fp, tn, fn = op["tp"], op["fp"], op["tn"], op["fn"]
        row: dict[str, Any] = {"target": op["target_specificity"], "threshold": op["threshold"]}
        for name, k, n in (
            ("sensitivity", tp, tp + fn),
            ("specificity", tn, tn + fp),
            ("ppv", tp, tp + fp),
            ("npv", tn, tn + fn),
        ):
            ci = exact_interval(k, n, 0.95)
            row[name] = None if ci is None else {"value": k / n, "low": ci.low, "high": ci.high}
        rows.append(row)
    return rows
