"""The one core object that the CLI, the REST API and the worker all wrap."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cohortbench.sandbox.scratch import Scratch
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
    _scratch: Scratch | None = field(default=None, init=False, repr=False)
    _scratch_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def scratch(self) -> Scratch:
        """This process's sandbox job folders, under the data directory (they hold cohort data while a
        phase runs, so they live where the cohort does, not in a shared /tmp); opened on first use,
        which also removes what a killed worker left (sandbox.scratch)."""
        with self._scratch_lock:  # the embedded worker's threads may ask at once
            if self._scratch is None:
                self._scratch = Scratch(self.settings.data_dir / "scratch")
            return self._scratch

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
        with self._scratch_lock:
            if self._scratch is not None:
                self._scratch.close()
                self._scratch = None
        self.engine.dispose()
