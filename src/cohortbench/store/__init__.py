"""cohortbench.store: database tables, migrations, the artifact folder, API tokens and the audit chain.

Submodules: `db` (engines, sessions, `migrate`), `models` (tables), `artifacts` (content-addressed
files), `tokens` (API tokens), `audit` (hash-chained trail).
"""

from cohortbench.store.artifacts import ArtifactStore
from cohortbench.store.db import default_url, make_engine, migrate, session_factory

__all__ = ["ArtifactStore", "default_url", "make_engine", "migrate", "session_factory"]
