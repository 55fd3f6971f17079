"""The one core object that the CLI, the REST API and the worker all wrap."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cohortbench.service.board_cache import BoardCache
from cohortbench.service.settings import Settings
from cohortbench.store.artifacts import ArtifactStore
from cohortbench.store.db import make_engine, migrate, session_factory

log = logging.getLogger(__name__)


@dataclass
class Platform:
    """Settings + database + artifact store of one deployment."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    artifacts: ArtifactStore
    boards: BoardCache = field(default_factory=BoardCache)  # released leaderboards (service.board_cache)

    @classmethod
    def open(cls, settings: Settings | None = None) -> Platform:
        """Open (and migrate) the deployment described by `settings`."""
        settings = settings or Settings.from_env()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.db_url)
        migrate(engine)
        if settings.unsafe_no_sandbox:
            log.warning("UNSAFE: contributor code will run WITHOUT the sandbox (development only)")
        return cls(settings, engine, session_factory(engine), ArtifactStore(settings.data_dir / "artifacts"))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()
