"""Tables behave the same on both backends: aware UTC timestamps, JSON, the one-result-per-run rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cohortbench.store.models import Membership, Result, Run, User, Workspace


def test_timestamps_come_back_aware_utc(
    sessions: sessionmaker[Session], make_run: Callable[..., Run]
) -> None:
    moment = dt.datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    with sessions() as session, session.begin():
        run = make_run(session)
        run.started_at = moment
    with sessions() as session:
        stored = session.scalars(select(Run)).one().started_at
    assert stored == moment
    assert stored is not None and stored.utcoffset() == dt.timedelta(0)


def test_naive_timestamps_are_refused(sessions: sessionmaker[Session], make_run: Callable[..., Run]) -> None:
    with sessions() as session:
        run = make_run(session)
        run.started_at = dt.datetime(2026, 1, 1)
        with pytest.raises(Exception, match="naive"):
            session.flush()


def test_json_round_trips(sessions: sessionmaker[Session], make_run: Callable[..., Run]) -> None:
    losses = {"train": [0.5, 0.25, 0.125], "nested": {"a": None, "b": True}}
    with sessions() as session, session.begin():
        make_run(session).losses = losses
    with sessions() as session:
        assert session.scalars(select(Run)).one().losses == losses


def test_a_run_has_at_most_one_result(sessions: sessionmaker[Session], make_run: Callable[..., Run]) -> None:
    with sessions() as session, session.begin():
        run_id = make_run(session).id
        session.add(Result(run_id=run_id, result={"macro_f1": 0.8}, headline={"macro_f1": 0.8}))
    with sessions() as session:
        session.add(Result(run_id=run_id, result={}, headline={}))
        with pytest.raises(IntegrityError):
            session.commit()


def test_membership_is_unique_per_workspace_and_user(
    sessions: sessionmaker[Session], make_run: Callable[..., Run]
) -> None:
    with sessions() as session, session.begin():
        make_run(session)
        workspace_id = session.scalars(select(Workspace.id)).one()
        user = session.scalars(select(User)).one()
        session.add(Membership(workspace_id=workspace_id, user_id=user.id, role="owner"))
    with sessions() as session:
        session.add(Membership(workspace_id=workspace_id, user_id=user.id, role="viewer"))
        with pytest.raises(IntegrityError):
            session.commit()
