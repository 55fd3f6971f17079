"""What a member has used of the quota and the compute budget, and which submissions count."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from cohortbench.sandbox.runs import PLATFORM_ERROR
from cohortbench.service.workspaces.membership import team_of
from cohortbench.store.models import Submission, User, Workspace


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
