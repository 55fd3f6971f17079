"""A workspace's rules, read and written in one place: `rules_of` is the one typed accessor (a
validated workspaces.rules.Rules), `apply_rules` the one writer.

The database keeps the rules a query filters or shows on its own (quota, budget, end date, primary
metric, visibility, resources) in columns of the workspaces table, and the others (ladder, DP
budget, round_scores) in its `rules` JSON (migration 0004 moved them out of `settings`, which keeps
the cohort's notes and the EDA cache: service/workspaces/notes.py). Only `apply_rules` writes them; a column is read
directly only where validating the whole rules per read would cost too much (the primary metric,
read per leaderboard row and per run).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from cohortbench.errors import ConflictError, ValidationError
from cohortbench.service.access import get_workspace, require
from cohortbench.store import audit
from cohortbench.store.models import User, Workspace
from cohortbench.workspaces import (
    Resources,
    Rules,
)

#: the rules that have a column of their own (the others are keys of the `rules` JSON)
RULE_COLUMNS = ("quota", "budget_pflop", "end_date", "primary_metric", "visibility", "resources")


def stored_rules(workspace: Workspace) -> dict[str, Any]:
    """The rules as stored (columns + the `rules` JSON), not validated: what a correction starts from.

    Keys that are no rule are left out (they never meant anything), so a correction never has to
    remove them; a bad value of a real rule is kept, for validation to name.
    """
    known = set(Rules.model_fields)
    stored = workspace.rules if isinstance(workspace.rules, dict) else {}
    data: dict[str, Any] = {k: v for k, v in stored.items() if k in known}
    resources = workspace.resources if workspace.resources is not None else {}
    if isinstance(resources, dict):
        resources = {k: v for k, v in resources.items() if k in Resources.model_fields}
    data.update(
        quota=workspace.quota,
        budget_pflop=workspace.budget_pflop,
        end_date=workspace.end_date,
        primary_metric=workspace.primary_metric,
        visibility=workspace.visibility,
        resources=resources,
    )
    return data


def rules_of(workspace: Workspace) -> Rules:
    """The workspace's rules, validated; a bad stored value is this workspace's 409, named, not a crash."""
    try:
        return Rules.from_dict(stored_rules(workspace))
    except ValidationError as exc:
        raise ConflictError(
            f"workspace {workspace.name!r} has invalid stored rules ({exc.message}); "
            "its owner can correct them with a rules update",
            code="invalid_rules",
        ) from None


def apply_rules(workspace: Workspace, rules: Rules) -> None:
    """Store validated `rules` on the workspace: its rule columns and its `rules` JSON."""
    data = rules.to_dict()
    workspace.quota = rules.quota
    workspace.budget_pflop = rules.budget_pflop
    workspace.end_date = rules.end_date
    workspace.primary_metric = rules.primary_metric
    workspace.visibility = rules.visibility
    workspace.resources = data.pop("resources")
    for key in RULE_COLUMNS[:-1]:
        data.pop(key)
    workspace.rules = data


def update_rules(
    session: Session, *, actor: User, name: str, changes: dict[str, Any], reason: str | None = None
) -> Rules:
    """Change some rules; the audit log records old -> new.

    The changes are merged onto the rules as stored (not as validated), so an owner can also
    correct a bad value left in the database; the merged whole is validated before it is kept.
    """
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="changing the rules")
    stored = stored_rules(workspace)
    try:
        old = rules_of(workspace).to_dict()
    except ConflictError:
        old = {k: v.isoformat() if isinstance(v, date) else v for k, v in stored.items()}
    if isinstance(changes.get("resources"), dict) and isinstance(stored["resources"], dict):
        changes = {**changes, "resources": {**stored["resources"], **changes["resources"]}}
    new = Rules.from_dict({**stored, **changes})
    apply_rules(workspace, new)
    after = new.to_dict()
    diff = {k: {"old": old.get(k), "new": v} for k, v in after.items() if old.get(k) != v}
    audit.append(
        session,
        actor=actor.name,
        action="rules.update",
        target=f"workspace:{name}",
        payload=diff,
        reason=reason,
    )
    return new


def publish(session: Session, *, actor: User, name: str) -> None:
    """Release the leaderboard to every member."""
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="publishing the leaderboard")
    workspace.published_at = datetime.now(UTC)
    audit.append(
        session, actor=actor.name, action="leaderboard.publish", target=f"workspace:{name}", payload={}
    )
