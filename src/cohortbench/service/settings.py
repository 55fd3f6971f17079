"""Deployment settings: one typed, documented table (pydantic-settings), read from `COHORTBENCH_*`
environment variables over the defaults; keyword arguments override both.

A misspelt variable is refused, with the list of known ones, instead of being silently ignored.
docs/settings.md is generated from this table (`settings_table`) and checked by a test.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from cohortbench.errors import ValidationError

ENV_PREFIX = "COHORTBENCH_"

#: variables with the prefix that are not deployment settings: read by the CLI's contributor
#: commands and by the test suite (tests/conftest.py, tests/artifacts.py)
OTHER_VARIABLES: dict[str, str] = {
    "COHORTBENCH_URL": "Server URL of the contributor commands (`submit`, `results`, `leaderboard`).",
    "COHORTBENCH_TOKEN": "API token of the contributor commands.",
    "COHORTBENCH_TEST_SEED": "Seed of the random tests (default 42).",
    "COHORTBENCH_TEST_ARTIFACTS": "Folder for the charts, screenshots and report the tests save.",
}


class Settings(BaseSettings):
    """Settings of one deployment; `COHORTBENCH_<NAME>` sets `<name>`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    data_dir: Path = Field(
        default=Path(".cohortbench"), description="Folder holding the SQLite database and the artifact store."
    )
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite under data_dir.")
    bootstrap_resamples: int = Field(
        default=2000, ge=1, description="Bootstrap resamples for every 95% interval."
    )
    importance_repeats: int = Field(
        default=3, ge=1, description="Permutation repeats per feature and per feature group."
    )
    max_upload_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1, description="Largest bundle upload accepted."
    )
    grid_g_per_kwh: float = Field(
        default=250.0,
        ge=0,
        description="Carbon intensity of the electricity grid (g CO2e per kWh) for CO2e estimates.",
    )
    unsafe_no_sandbox: bool = Field(
        default=False,
        description="Run contributor code without bubblewrap (development only; logged loudly).",
    )
    embedded_worker: bool = Field(default=True, description="Run a job worker inside the API process.")

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_variables(cls, values: Any) -> Any:
        unknown = sorted(set(os.environ) - set(known_variables()))
        unknown = [name for name in unknown if name.startswith(ENV_PREFIX)]
        if unknown:
            raise ValidationError(
                f"unknown environment variable {', '.join(unknown)}; "
                f"the known ones are {', '.join(known_variables())}"
            )
        return values

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'cohortbench.db'}"

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then COHORTBENCH_<NAME> environment variables, then the overrides that are not
        None; a value of the wrong type is one clear error naming the setting."""
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        except PydanticValidationError as exc:
            problems = "; ".join(
                f"{ENV_PREFIX}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
            )
            raise ValidationError(f"bad setting: {problems}") from exc


def known_variables() -> list[str]:
    """Every COHORTBENCH_* variable cohortbench reads, sorted."""
    return sorted([f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields] + list(OTHER_VARIABLES))


def settings_table() -> str:
    """The Markdown table of docs/settings.md: variable, type, default, meaning."""
    lines = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        kind = getattr(field.annotation, "__name__", str(field.annotation))
        default = f"`{field.default}`" if field.default != "" else "(empty)"
        lines.append(f"| `{ENV_PREFIX}{name.upper()}` | {kind} | {default} | {field.description} |")
    for name, meaning in OTHER_VARIABLES.items():
        lines.append(f"| `{name}` | str | | {meaning} |")
    return "\n".join(lines)


SETTINGS_HELP: dict[str, str] = {
    name: field.description or "" for name, field in Settings.model_fields.items()
}
