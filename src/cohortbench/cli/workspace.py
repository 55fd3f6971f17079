"""`cohortbench workspace ...` and `cohortbench user ...`: owner commands on a local deployment."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cohortbench.cli.common import DEFAULT_DATA_DIR, DataDir, as_admin
from cohortbench.cli.tables import make_console
from cohortbench.errors import ValidationError

app = typer.Typer(help="Create and administer workspaces (owners).", no_args_is_help=True)
user_app = typer.Typer(help="Users and API tokens (administrators).", no_args_is_help=True)
console = make_console()


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Workspace name (a lowercase slug)")],
    data: Annotated[Path, typer.Option("--data", help="Cohort table, .csv or .parquet")],
    label: Annotated[str, typer.Option(help="Label column")],
    critical: Annotated[str, typer.Option(help="Critical class (e.g. 3, Fast)")],
    id_column: Annotated[str, typer.Option("--id", help="Id column")] = "patient_id",
    title: Annotated[str, typer.Option(help="Title shown on the cards")] = "",
    holdout: Annotated[float, typer.Option(help="Holdout fraction")] = 0.2,
    seed: Annotated[int, typer.Option(help="Split seed")] = 0,
    quota: Annotated[int, typer.Option(help="Submissions per contributor")] = 5,
    budget: Annotated[float, typer.Option(help="Compute budget per contributor, petaFLOP")] = 100.0,
    end_date: Annotated[str, typer.Option(help="YYYY-MM-DD; submissions refused after it")] = "",
    description: Annotated[str, typer.Option(help="What the use case is, shown to members")] = "",
    groups: Annotated[
        Path | None,
        typer.Option(
            "--groups",
            help='groups.toml: group = ["col", ...] or group = { prefix = "ast_" }; '
            "default: groups from shared column-name prefixes",
        ),
    ] = None,
    categorical: Annotated[
        str, typer.Option(help="Comma-separated columns to treat as categories (text columns always are)")
    ] = "",
    missing_labels: Annotated[
        str, typer.Option(help="Records without a label: refuse the table, or drop them")
    ] = "refuse",
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Create a workspace from a CSV or Parquet table (the holdout split is seeded and stratified).

    Features may have missing values (kept as NaN) and categorical columns; a refused table
    leaves nothing behind in the data directory's database or artifacts.
    """
    from cohortbench.cohorts import load_frame
    from cohortbench.service import workspaces
    from cohortbench.workspaces import Rules, groups_from_spec

    frame = load_frame(data)
    rules = Rules(quota=quota, budget_pflop=budget, end_date=_date(end_date))
    features = [c for c in frame.columns if c not in (id_column, label)]
    feature_groups = groups_from_spec(read_groups(groups), features) if groups else None
    with as_admin(data_dir) as (platform, session, admin):
        workspace = workspaces.create_workspace(
            platform,
            session,
            actor=admin,
            name=name,
            title=title or name,
            frame=frame,
            label_column=label,
            id_column=id_column,
            critical_class=critical,
            holdout_fraction=holdout,
            split_seed=seed,
            rules=rules,
            feature_groups=feature_groups,
            description=description,
            categorical=[c.strip() for c in categorical.split(",") if c.strip()],
            missing_labels=missing_labels,
        )
        card = workspaces.card(session, workspace, admin, "owner")
        named = _groups_line(workspace.feature_groups)
        notes = workspaces.notes_of(workspace)
        levels, dropped = notes.categories, notes.dropped_unlabelled
    console.print(f"created workspace {card.name}: {card.n_train} train / {card.n_holdout} holdout records")
    console.print(f"feature groups: {named}")
    if levels:
        console.print("categorical: " + "; ".join(f"{c} ({len(v)} levels)" for c, v in levels.items()))
    if dropped:
        console.print(f"dropped {dropped} record(s) without a label")


def read_groups(path: Path) -> dict[str, Any]:
    """A groups.toml file as a table (its [groups] table, or the whole file)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{path}: not valid TOML: {exc}") from None
    return data


def _groups_line(groups: dict[str, list[str]]) -> str:
    shown = ", ".join(f"{g} ({len(c)})" for g, c in list(groups.items())[:12])
    return shown + (f", ... ({len(groups)} groups)" if len(groups) > 12 else "")


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"end date must be YYYY-MM-DD, got {text!r}") from None


@app.command("grow")
def grow(
    name: Annotated[str, typer.Argument(help="Workspace name")],
    data: Annotated[Path, typer.Option("--data", help="Batch of new records, .csv or .parquet")],
    resplit: Annotated[
        bool, typer.Option("--resplit", help="Re-split train/holdout (default: the holdout stays fixed)")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit trail; required with --resplit)")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Add a batch of records as a new cohort version; new records join train unless --resplit."""
    from cohortbench.cohorts import load_frame
    from cohortbench.service import growth

    batch = load_frame(data)
    with as_admin(data_dir) as (platform, session, admin):
        version = growth.grow(
            platform, session, actor=admin, name=name, batch=batch, resplit=resplit, reason=reason or None
        )
        line = (
            f"cohort version {version.version} of {name}: {version.n_records:,} records "
            f"({version.n_train:,} train / {version.n_holdout:,} holdout, holdout "
            f"{'re-split' if resplit else 'fixed'}), sha256 {version.sha256[:12]}"
        )
    console.print(line)


@app.command("versions")
def versions(name: str, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """The cohort versions of a workspace: date, records, train/holdout and class counts."""
    from cohortbench.service import release

    with as_admin(data_dir) as (platform, session, admin):
        listing = release.versions(platform, session, actor=admin, workspace_name=name)
    table = Table("version", "created", "records", "train/holdout", "holdout", "classes")
    for v in listing.data:
        counts = v.class_counts or {}
        table.add_row(
            str(v.version),
            v.created_at[:16].replace("T", " "),
            f"{v.n_records:,}",
            f"{v.n_train:,}/{v.n_holdout:,}",
            "fixed" if v.holdout_fixed else "re-split",
            " · ".join(f"{k} {'-' if c is None else c}" for k, c in counts.items()),
        )
    console.print(table)


@app.command("drift")
def drift(
    name: Annotated[str, typer.Argument(help="Workspace name")],
    reference: Annotated[int, typer.Option(help="Earlier cohort version (with --current)")] = 0,
    current: Annotated[int, typer.Option(help="Later cohort version: its added records are compared")] = 0,
    version: Annotated[int, typer.Option(help="Train vs holdout of this version (default: the latest)")] = 0,
    top: Annotated[int, typer.Option(help="Features listed, largest PSI first")] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="The whole report as JSON")] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Drift report (owner): PSI and KS per feature with FDR-adjusted p-values, class priors, groups."""
    from cohortbench.service import drift as service

    with as_admin(data_dir) as (platform, session, admin):
        if reference or current:
            report = service.between_versions(
                platform, session, actor=admin, name=name, reference=reference, current=current
            )
        else:
            report = service.train_holdout(platform, session, actor=admin, name=name, version=version or None)
    if as_json:
        console.print_json(json.dumps(report.to_dict()))
        return
    console.print(
        f"[bold]{report.current}[/bold] ({report.n_current:,}) against {report.reference} ({report.n_reference:,})"
    )
    console.print(report.binning)
    flagged = ", ".join(report.flagged) or "none"
    console.print(f"flagged at FDR {report.fdr:g} (KS, Benjamini-Hochberg): {flagged}")
    table = Table("feature", "group", "PSI", "KS", "p", "q (BH)", "flagged", "ADWIN batch")
    for f in sorted(report.features, key=lambda f: -f.psi)[:top]:
        table.add_row(
            f.name, f.group, f"{f.psi:.3f}", f"{f.ks_statistic:.3f}", f"{f.p_value:.2g}", f"{f.q_value:.2g}",
            "yes" if f.flagged else "", "-" if f.adwin_batch is None else str(f.adwin_batch),
        )  # fmt: skip
    console.print(table)
    groups = Table("group", "features", "flagged", "median PSI", "max PSI", "top feature")
    for g in report.groups:
        groups.add_row(
            g.group,
            str(g.n_features),
            str(g.n_flagged),
            f"{g.median_psi:.3f}",
            f"{g.max_psi:.3f}",
            g.top_feature,
        )
    console.print(groups)
    c = report.classes
    p = "-" if c.chi2_p_value is None else f"{c.chi2_p_value:.2g}"
    console.print(
        f"class priors: {c.reference} -> {c.current}; chi-square p {p}, total variation {c.total_variation:.3f}"
    )


@app.command("audit-labels")
def audit_labels(
    name: Annotated[str, typer.Argument(help="Workspace name")],
    version: Annotated[int, typer.Option(help="Cohort version (default: the latest)")] = 0,
    top: Annotated[int, typer.Option(help="Suspects listed, most suspect first")] = 40,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Label audit (owner): records whose given label the rest of the cohort contradicts (cleanlab)."""
    from cohortbench.service import label_audit

    with as_admin(data_dir) as (platform, session, admin):
        result = label_audit.audit_cohort(platform, session, actor=admin, name=name, version=version or None)
    console.print(
        f"{result.n_flagged} of {result.n_records:,} records flagged; reference model: {result.reference_model}"
    )
    table = Table("rank", "record", "given", "suggested", "P(given), out of fold")
    for i, s in enumerate(result.suspects[:top], start=1):
        table.add_row(str(i), s.record_id, s.given, s.suggested, f"{s.self_confidence:.3f}")
    console.print(table)


@app.command("update")
def update(
    name: str,
    rule: Annotated[
        list[str] | None, typer.Option("--set", help="rule=value (JSON value), repeatable")
    ] = None,
    description: Annotated[str | None, typer.Option(help="New description shown to members")] = None,
    groups: Annotated[
        Path | None,
        typer.Option("--groups", help="groups.toml replacing the feature groups (before any submission)"),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit trail)")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Change rules (`--set quota=3 --set visibility='"live"'`), the description or the feature groups."""
    from cohortbench.service import workspaces

    if not rule and description is None and groups is None:
        raise ValidationError("nothing to update: give --set rule=value, --description or --groups")
    if description is not None or groups is not None:
        from cohortbench.service import describe

        table = read_groups(groups) if groups else None
        with as_admin(data_dir) as (platform, session, admin):
            ws = describe.update_workspace(
                platform,
                session,
                actor=admin,
                name=name,
                description=description,
                groups=table,
                reason=reason or None,
            )
            named = _groups_line(ws.feature_groups)
        console.print(f"updated {name}: feature groups {named}")
    if not rule:
        return
    changes: dict[str, Any] = {}
    for item in rule:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValidationError(f"--set expects rule=value, got {item!r}")
        try:
            changes[key] = json.loads(value)
        except json.JSONDecodeError:
            changes[key] = value
    with as_admin(data_dir) as (_platform, session, admin):
        rules = workspaces.update_rules(
            session, actor=admin, name=name, changes=changes, reason=reason or None
        )
    console.print_json(json.dumps(rules.to_dict()))


@app.command("publish")
def publish(name: str, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Release the leaderboard to every member."""
    from cohortbench.service import workspaces

    with as_admin(data_dir) as (_platform, session, admin):
        workspaces.publish(session, actor=admin, name=name)
    console.print(f"leaderboard of {name} published")


@app.command("invite")
def invite(
    name: str,
    user: Annotated[str, typer.Argument(help="User name")],
    role: Annotated[str, typer.Option(help="owner, contributor or viewer")] = "contributor",
    team: Annotated[str, typer.Option(help="Team sharing one quota and budget")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Invite a user to a workspace (or change their role)."""
    from cohortbench.service import workspaces

    with as_admin(data_dir) as (_platform, session, admin):
        workspaces.invite(session, actor=admin, name=name, user_name=user, role=role, team=team or None)
    console.print(f"{user} is now {role} of {name}")


@app.command("list")
def list_workspaces(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """The workspaces of this deployment as cards."""
    from cohortbench.service import workspaces

    with as_admin(data_dir) as (_platform, session, admin):
        cards = workspaces.list_cards(session, actor=admin)
    table = Table("name", "records", "train/holdout", "end date", "compute (PF)", "submits", "resources")
    for c in cards:
        table.add_row(
            c.name,
            f"{c.n_records:,}",
            f"{c.n_train:,}/{c.n_holdout:,}",
            c.end_date.isoformat() if c.end_date else "-",
            f"{c.compute_used_pflop:.2f} / {c.budget_pflop:.2f}",
            f"{c.submissions_used}/{c.quota}",
            c.resources,
        )
    console.print(table)


@user_app.command("create")
def create_user(
    name: str,
    display_name: Annotated[str, typer.Option(help="Name shown on the leaderboard")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Create a user and print its API token (shown once)."""
    from cohortbench.service import users

    with as_admin(data_dir) as (_platform, session, admin):
        _user, token = users.create_user(
            session, name=name, display_name=display_name or None, actor=admin.name
        )
    typer.echo(f"user {name} created; API token (shown once): {token}")


@user_app.command("list")
def list_users(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """The users of this deployment, with the prefixes of their live API tokens (never a token)."""
    from cohortbench.service import users

    with as_admin(data_dir) as (_platform, session, admin):
        rows = users.list_users(session, actor=admin)
    table = Table("name", "display name", "admin", "created", "live tokens")
    for row in rows:
        table.add_row(
            row.name,
            row.display_name,
            "yes" if row.is_admin else "",
            row.created_at.strftime("%Y-%m-%d %H:%M"),
            ", ".join(f"{p}…" for p in row.token_prefixes) or "none",
        )
    console.print(table)


@user_app.command("token-reset")
def token_reset(
    name: Annotated[str, typer.Argument(help="User name (`admin` for the administrator)")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Revoke every API token of NAME and print a new one (shown once; both steps audited)."""
    from cohortbench.service import users

    with as_admin(data_dir) as (_platform, session, admin):
        token = users.reset_token(session, actor=admin, name=name)
    typer.echo(f"old tokens of {name} revoked; new API token (shown once): {token}")
