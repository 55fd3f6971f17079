"""The Alembic migrations build exactly the tables the models describe, on both backends."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from cohortbench.store.db import alembic_config, default_url, make_engine, migrate, session_factory
from cohortbench.store.models import Base, Result, Submission, Workspace
from tests.conftest import add_run


def test_migrations_match_the_models(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert set(inspect(connection).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_migrate_twice_is_a_no_op(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        migrate(engine)
        migrate(engine)
        with engine.connect() as connection:
            assert (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
                == "0004_rules"
            )
    finally:
        engine.dispose()


def test_sqlite_connections_get_wal_foreign_keys_and_a_busy_timeout(sqlite_db_url: str) -> None:
    engine = make_engine(sqlite_db_url)
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        engine.dispose()
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30_000}


def test_default_url_is_a_file_in_the_data_directory(tmp_path: Path) -> None:
    url = default_url(tmp_path / "data")
    assert url == f"sqlite:///{tmp_path / 'data' / 'cohortbench.db'}"
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    assert (tmp_path / "data" / "cohortbench.db").is_file()


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    engine = make_engine("postgresql://u@127.0.0.1:1/db")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_downgrade_removes_everything_and_upgrade_restores_it(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        migrate(engine)
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        migrate(engine)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_0002_gives_submissions_that_finished_before_it_their_board(empty_db_url: str) -> None:
    """The leaderboard summary is worked out from the runs of each finished submission, once."""
    engine = make_engine(empty_db_url)
    try:
        migrate(engine)
        with session_factory(engine)() as session, session.begin():
            run = add_run(session, name="done")
            run.status = "succeeded"
            run.resources = {"cpu_seconds": 3.5, "gpu_seconds": 1.0, "n_parameters": 7}
            headline = {
                "macro_f1": {"value": 0.5123456789012345, "low": 0.4, "high": 0.6},
                "ece": 0.1,
                "per_class_recall": {"a": 1.0, "b": 0.0},
            }
            session.add(Result(run_id=run.id, result={"big": [1.0] * 100}, headline=headline))
            session.get_one(Submission, run.submission_id).status = "succeeded"
            add_run(session, name="queued")
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
            assert "board" not in {c["name"] for c in inspect(connection).get_columns("submissions")}
        migrate(engine)
        with session_factory(engine)() as session:
            boards = {s.name: s.board for s in session.scalars(select(Submission))}
    finally:
        engine.dispose()
    assert boards == {
        "done": {
            "headlines": {
                "baseline": {"macro_f1": {"value": 0.5123456789012345, "low": 0.4, "high": 0.6}, "ece": 0.1}
            },
            "cpu_seconds": 3.5,
            "gpu_seconds": 1.0,
            "n_parameters": 7,
        },
        "queued": None,
    }


def test_0004_moves_the_rules_out_of_settings_and_back(empty_db_url: str) -> None:
    """The rules without a column leave `settings` (the notes and the EDA cache stay), and return on downgrade."""
    before = {
        "ladder": True,
        "dp_epsilon": 1.0,
        "eda_cache": {"sha": "artifact"},
        "categories": {"site": ["a"]},
    }
    table = sa.table("workspaces", sa.column("settings", sa.JSON))
    engine = make_engine(empty_db_url)
    try:
        migrate(engine)
        with session_factory(engine)() as session, session.begin():
            add_run(session, name="old")
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0003_rerun")
            connection.execute(table.update().values(settings=before))
        migrate(engine)
        with session_factory(engine)() as session:
            workspace = session.scalars(select(Workspace)).one()
            moved = (workspace.rules, workspace.settings)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003_rerun")
            back = connection.execute(sa.select(table.c.settings)).scalar_one()
    finally:
        engine.dispose()
    assert moved == (
        {"ladder": True, "dp_epsilon": 1.0},
        {"eda_cache": {"sha": "artifact"}, "categories": {"site": ["a"]}},
    )
    assert back == before
