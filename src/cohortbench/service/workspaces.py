"""Workspaces: creation from a table, rules, members, cohort versions, cards."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cohortbench.cohorts.io import read_parquet
from cohortbench.errors import CohortbenchError, ConflictError, NotFoundError, ValidationError
from cohortbench.sandbox.runs import PLATFORM_ERROR
from cohortbench.service.access import ROLES, get_workspace, require
from cohortbench.service.platform import Platform
from cohortbench.service.users import get_user
from cohortbench.service.workspace_notes import CohortNotes, notes_of, write_notes
from cohortbench.service.workspace_rules import apply_rules, rules_of, stored_rules
from cohortbench.store import audit
from cohortbench.store.models import CohortVersion, Membership, Submission, User, Workspace
from cohortbench.workspaces import (
    Rules,
    apply_categories,
    groups_by_prefix,
    split_holdout,
    validate_cohort,
)
from cohortbench.workspaces.cohort import CohortTable

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkspaceCard:
    """What the workspaces page shows for one workspace, from the viewer's point of view."""

    name: str
    title: str
    description: str
    role: str
    participants: int
    end_date: date | None
    compute_used_pflop: float
    budget_pflop: float
    submissions_used: int
    quota: int
    resources: str
    dataset_id: str
    n_records: int
    n_train: int
    n_holdout: int
    n_features: int
    classes: tuple[str, ...]
    critical_class: str
    primary_metric: str
    published: bool


def create_workspace(
    platform: Platform,
    session: Session,
    *,
    actor: User,
    name: str,
    title: str,
    frame: pd.DataFrame,
    label_column: str,
    id_column: str,
    critical_class: str,
    classes: tuple[str, ...] | None = None,
    holdout_fraction: float = 0.2,
    split_seed: int = 0,
    rules: Rules | None = None,
    feature_groups: dict[str, list[str]] | None = None,
    description: str = "",
    categorical: Sequence[str] = (),
    missing_labels: str = "refuse",
) -> Workspace:
    """Create a workspace and its first cohort version from an owner's table.

    Every check (table, critical class, feature groups) runs before any row or artifact is
    written, so a refused table leaves nothing behind (the caller's transaction holds the rows).
    The levels of the categorical columns and the number of records dropped for a missing label
    (`missing_labels="drop"`) are kept in the workspace's cohort notes (owner-side).
    """
    if not name or not name.replace("-", "").isalnum() or name != name.lower():
        raise ValidationError(f"workspace name must be a lowercase slug (letters, digits, -), got {name!r}")
    if session.scalar(select(Workspace).where(Workspace.name == name)) is not None:
        raise ConflictError(f"workspace {name!r} already exists")
    table = validate_cohort(
        frame,
        id_column=id_column,
        label_column=label_column,
        classes=classes,
        holdout_fraction=holdout_fraction,
        categorical=categorical,
        missing_labels=missing_labels,
    )
    if critical_class not in table.classes:
        raise ValidationError(f"critical class {critical_class!r} is not one of {', '.join(table.classes)}")
    groups = feature_groups or groups_by_prefix(list(table.features))
    _check_groups(groups, table)
    rules = rules or Rules()
    workspace = Workspace(
        name=name,
        title=title,
        description=description,
        owner_id=actor.id,
        label_column=label_column,
        id_column=id_column,
        classes=list(table.classes),
        critical_class=critical_class,
        feature_groups={k: list(v) for k, v in groups.items()},
        dataset_id="",
    )
    apply_rules(workspace, rules)
    write_notes(workspace, CohortNotes(categories=table.categories, dropped_unlabelled=table.n_dropped))
    holdout_ids = split_holdout(table, holdout_fraction=holdout_fraction, seed=split_seed)
    session.add(workspace)
    session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=actor.id, role="owner"))
    version = store_version(platform, session, workspace, table, holdout_ids, 1, split_seed, holdout_fraction)
    workspace.dataset_id = version.sha256[:8]
    audit.append(
        session,
        actor=actor.name,
        action="workspace.create",
        target=f"workspace:{name}",
        payload={
            "rules": rules.to_dict(),
            "cohort_sha256": version.sha256,
            "n_records": version.n_records,
            "dropped_unlabelled": table.n_dropped,
            "categorical": sorted(table.categories),
        },
    )
    return workspace


def _check_groups(groups: dict[str, list[str]], table: CohortTable) -> None:
    unknown = sorted({c for cols in groups.values() for c in cols} - set(table.features))
    if unknown:
        raise ValidationError(f"feature groups name unknown columns: {', '.join(unknown[:5])}")


def store_version(
    platform: Platform,
    session: Session,
    workspace: Workspace,
    table: CohortTable,
    holdout_ids: np.ndarray,
    number: int,
    split_seed: int,
    holdout_fraction: float,
) -> CohortVersion:
    """Store a validated table and its holdout ids as cohort version `number` (content-hashed)."""
    # Parquet written to a file and streamed into the store: the same bytes (and content hash) as
    # frame_digest's, without holding the encoded table in memory twice (1.6 GB each at 20,000 x 20,000)
    with tempfile.TemporaryDirectory(dir=platform.artifacts.root, prefix=".cohort-") as tmp:
        path = Path(tmp) / "cohort.parquet"
        table.frame.to_parquet(path, index=False)
        data_sha = sha = platform.artifacts.put_file(path)
    ids_sha = platform.artifacts.put_bytes(json.dumps(sorted(map(str, holdout_ids))).encode())
    version = CohortVersion(
        workspace_id=workspace.id,
        version=number,
        sha256=sha,
        data_artifact=data_sha,
        n_records=len(table.frame),
        n_train=len(table.frame) - len(holdout_ids),
        n_holdout=len(holdout_ids),
        split_seed=split_seed,
        holdout_fraction=holdout_fraction,
        holdout_ids_artifact=ids_sha,
    )
    session.add(version)
    session.flush()
    return version


def latest_version(session: Session, workspace: Workspace) -> CohortVersion:
    version = session.scalar(
        select(CohortVersion)
        .where(CohortVersion.workspace_id == workspace.id)
        .order_by(CohortVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFoundError(f"workspace {workspace.name!r} has no cohort")
    return version


def load_cohort(
    platform: Platform, version: CohortVersion, workspace: Workspace
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, holdout) frames of a cohort version. Trusted side only: holdout labels are in here."""
    frame = apply_categories(
        read_parquet(platform.artifacts.path(version.data_artifact)), notes_of(workspace).categories
    )
    holdout_ids = set(json.loads(platform.artifacts.path(version.holdout_ids_artifact).read_text()))
    mask = frame[workspace.id_column].astype(str).isin(holdout_ids)
    return frame[~mask].reset_index(drop=True), frame[mask].reset_index(drop=True)


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


def invite(
    session: Session,
    *,
    actor: User,
    name: str,
    user_name: str,
    role: str = "contributor",
    team: str | None = None,
) -> Membership:
    """Add a member (or change their role / team)."""
    workspace, actor_role = get_workspace(session, actor, name)
    require(actor_role, "owner", action="inviting members")
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    user = get_user(session, user_name)
    membership = session.scalar(
        select(Membership).where(Membership.workspace_id == workspace.id, Membership.user_id == user.id)
    )
    old = membership.role if membership else None
    if membership is None:
        membership = Membership(workspace_id=workspace.id, user_id=user.id, role=role, team=team)
        session.add(membership)
    else:
        membership.role, membership.team = role, team
    audit.append(
        session,
        actor=actor.name,
        action="member.role",
        target=f"workspace:{name}/user:{user_name}",
        payload={"old": old, "new": role, "team": team},
    )
    return membership


def members(session: Session, *, actor: User, name: str) -> list[tuple[str, str, str | None]]:
    """(user, role, team) of every member; owners only."""
    workspace, role = get_workspace(session, actor, name)
    require(role, "owner", action="listing members")
    rows = session.execute(
        select(User.name, Membership.role, Membership.team)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace.id)
        .order_by(User.name)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def team_of(session: Session, workspace: Workspace, user: User) -> str | None:
    return session.scalar(
        select(Membership.team).where(Membership.workspace_id == workspace.id, Membership.user_id == user.id)
    )


def counts_against_quota() -> ColumnElement[bool]:
    """Which submissions use up the quota: all but those that failed with PLATFORM_ERROR.

    The rule: a submission costs one from the quota once accepted (also while queued or running,
    and when cancelled), unless the platform failed it (the worker died on every attempt, an error
    outside the sandbox) before any phase reached an outcome: no score came out of it, so it is
    not the contributor's to pay. A phase that did reach an outcome (scored, or a model error such
    as `crashed`) makes the submission count, so a platform fault never hands out a free score.
    Compute is charged per phase outcome (the host's measurement, stored with the run), so an
    attempt cut short by a platform fault charges nothing, and a platform-failed submission 0 PF.
    """
    code = func.coalesce(Submission.public_error["code"].as_string(), "")
    return or_(Submission.status != "failed", code != PLATFORM_ERROR)


def usage(session: Session, workspace: Workspace, user: User) -> tuple[int, float]:
    """(submissions used, PF used) counted for the user's team if they have one, else for the user;
    see `counts_against_quota` for what is charged."""
    team = team_of(session, workspace, user)
    query = select(
        func.count(Submission.id).filter(counts_against_quota()),
        func.coalesce(func.sum(Submission.compute_pflop), 0.0),
    ).where(Submission.workspace_id == workspace.id)
    query = query.where(Submission.team == team) if team else query.where(Submission.user_id == user.id)
    count, pflop = session.execute(query).one()
    return int(count), float(pflop)


def card(session: Session, workspace: Workspace, user: User, role: str) -> WorkspaceCard:
    version = latest_version(session, workspace)
    rules = rules_of(workspace)
    participants = session.scalar(
        select(func.count(Membership.id)).where(
            Membership.workspace_id == workspace.id, Membership.role == "contributor"
        )
    )
    if role == "owner":
        used, pflop = session.execute(
            select(
                func.count(Submission.id).filter(counts_against_quota()),
                func.coalesce(func.sum(Submission.compute_pflop), 0.0),
            ).where(Submission.workspace_id == workspace.id)
        ).one()
    else:
        used, pflop = usage(session, workspace, user)
    n_features = sum(len(v) for v in (workspace.feature_groups or {}).values())
    return WorkspaceCard(
        name=workspace.name,
        title=workspace.title,
        description=workspace.description,
        role=role,
        participants=int(participants or 0),
        end_date=rules.end_date,
        compute_used_pflop=float(pflop),
        budget_pflop=rules.budget_pflop,
        submissions_used=int(used),
        quota=rules.quota,
        resources=rules.resources.describe(),
        dataset_id=workspace.dataset_id,
        n_records=version.n_records,
        n_train=version.n_train,
        n_holdout=version.n_holdout,
        n_features=n_features,
        classes=tuple(workspace.classes),
        critical_class=workspace.critical_class or "",
        primary_metric=rules.primary_metric,
        published=workspace.published_at is not None,
    )


def list_cards(session: Session, *, actor: User) -> list[WorkspaceCard]:
    """Cards of the workspaces the actor belongs to (admins: all)."""
    return cards_of_members(session, actor, card)


def cards_of_members(
    session: Session, actor: User, build: Callable[[Session, Workspace, User, str], T]
) -> list[T]:
    """`build(session, workspace, actor, role)` for each workspace the actor belongs to (admins: all).

    A workspace whose card cannot be built (a bad value stored before rules were validated) is
    left out and logged: it is that workspace's error, not every user's listing's.
    """
    from cohortbench.service.access import role_in

    cards = []
    for workspace in session.scalars(select(Workspace).order_by(Workspace.created_at)):
        role = role_in(session, actor, workspace)
        if role is None:
            continue
        try:
            cards.append(build(session, workspace, actor, role))
        except SQLAlchemyError:
            raise  # the database's trouble is the deployment's, not one workspace's
        except Exception as exc:
            log.warning("workspace %r left out of the listing: %s", workspace.name, reason(exc))
    return cards


def reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, CohortbenchError) else type(exc).__name__
