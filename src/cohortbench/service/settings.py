"""Deployment settings: one table of (name, default, help), read from COHORTBENCH_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

SETTINGS_HELP: dict[str, str] = {
    "data_dir": "Folder holding the SQLite database and the artifact store.",
    "database_url": "SQLAlchemy URL; empty means SQLite under data_dir.",
    "bootstrap_resamples": "Bootstrap resamples for every 95% interval.",
    "importance_repeats": "Permutation repeats per feature and per feature group.",
    "max_upload_bytes": "Largest bundle upload accepted.",
    "grid_g_per_kwh": "Carbon intensity of the electricity grid for energy estimates.",
    "unsafe_no_sandbox": "Run contributor code without bubblewrap (development only; logged loudly).",
    "embedded_worker": "Run a job worker inside the API process.",
}


@dataclass(frozen=True)
class Settings:
    """Settings of one deployment. Every field is documented in SETTINGS_HELP."""

    data_dir: Path = field(default_factory=lambda: Path(".cohortbench"))
    database_url: str = ""
    bootstrap_resamples: int = 2000
    importance_repeats: int = 3
    max_upload_bytes: int = 200 * 1024 * 1024
    grid_g_per_kwh: float = 250.0
    unsafe_no_sandbox: bool = False
    embedded_worker: bool = True

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'cohortbench.db'}"

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then COHORTBENCH_<NAME> environment variables, then explicit overrides."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"COHORTBENCH_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _parse(raw, f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"])
        return cls(**values)


def _parse(raw: str, kind: Any) -> Any:
    kind = str(kind)
    if "bool" in kind:
        return raw.lower() in ("1", "true", "yes", "on")
    if "int" in kind:
        return int(raw)
    if "float" in kind:
        return float(raw)
    return raw
