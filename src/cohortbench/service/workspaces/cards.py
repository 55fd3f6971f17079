"""Workspace cards: what the workspaces page shows of each workspace, from the viewer's point of view."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cohortbench.errors import CohortbenchError
from cohortbench.service.workspaces.quota import counts_against_quota, usage
from cohortbench.service.workspaces.rules import rules_of
from cohortbench.service.workspaces.versions import latest_version
from cohortbench.store.models import Membership, Submission, User, Workspace

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
