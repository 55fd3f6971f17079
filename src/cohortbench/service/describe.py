"""`workspace update --description/--groups`: what a workspace says about itself, changed by its owner.

Feature groups are fixed once a submission exists: its stored importance was computed on them and
the release policy (how many groups a contributor may learn of) counts them. Changing the groups
drops the cached EDA release, whose overview is per group; the next page view releases it again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cohortbench.errors import ConflictError, ValidationError
from cohortbench.service.access import get_workspace, require
from cohortbench.service.platform import Platform
from cohortbench.service.schema import feature_order
from cohortbench.service.workspaces.notes import write_eda_cache
from cohortbench.store import audit
from cohortbench.store.models import Submission, User, Workspace
from cohortbench.workspaces import groups_from_spec

MAX_DESCRIPTION = 10_000


def update_workspace(
    platform: Platform,
    session: Session,
    *,
    actor: User,
    name: str,
    description: str | None = None,
    groups: dict[str, Any] | None = None,
    reason: str | None = None,
) -> Workspace:
    """Change the description and/or the feature groups (a groups.toml table); owners only, audited."""
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="describing the workspace")
    changed: dict[str, Any] = {}
    if description is not None:
        if len(description) > MAX_DESCRIPTION:
            raise ValidationError(
                f"the description is {len(description)} characters; at most {MAX_DESCRIPTION}"
            )
        workspace.description = description
        changed["description_chars"] = len(description)
    if groups is not None:
        used = session.scalar(
            select(func.count(Submission.id)).where(Submission.workspace_id == workspace.id)
        )
        if used:
            raise ConflictError(
                f"workspace {name!r} has {used} submissions whose importance was computed on its feature "
                "groups; the groups can no longer change"
            )
        workspace.feature_groups = groups_from_spec(groups, feature_order(platform, session, workspace))
        write_eda_cache(workspace, {})  # the released EDA is per group: release it again
        changed["feature_groups"] = {g: len(c) for g, c in workspace.feature_groups.items()}
    if not changed:
        raise ValidationError("nothing to update: give a description and/or feature groups")
    audit.append(
        session,
        actor=actor.name,
        action="workspace.update",
        target=f"workspace:{name}",
        payload=changed,
        reason=reason,
    )
    return workspace
