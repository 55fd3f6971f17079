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
    from cohortbench.workspaces import Rules

    frame = load_frame(data)
    rules = Rules(quota=quota, budget_pflop=budget, end_date=_date(end_date))
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
            categorical=[c.strip() for c in categorical.split(",") if c.strip()],
            missing_labels=missing_labels,
        )
        card = workspaces.card(session, workspace, admin, "owner")
        levels = workspaces.categories_of(workspace)
        dropped = int(workspace.settings.get("dropped_unlabelled", 0))
    console.print(f"created workspace {card.name}: {card.n_train} train / {card.n_holdout} holdout records")
    if levels:
        console.print("categorical: " + "; ".join(f"{c} ({len(v)} levels)" for c, v in levels.items()))
    if dropped:
        console.print(f"dropped {dropped} record(s) without a label")


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"end date must be YYYY-MM-DD, got {text!r}") from None


@app.command("update")
def update(
    name: str,
    rule: Annotated[list[str], typer.Option("--set", help="rule=value (JSON value), repeatable")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit trail)")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Change rules, e.g. `--set quota=3 --set visibility='"live"'`."""
    from cohortbench.service import workspaces

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
