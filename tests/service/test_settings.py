"""Settings: one typed table, read from COHORTBENCH_* variables; unknown or ill-typed ones are refused,
and every setting is documented (docs/settings.md) and read somewhere in the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cohortbench.errors import ValidationError
from cohortbench.service.settings import OTHER_VARIABLES, Settings, known_variables, settings_table

ROOT = Path(__file__).resolve().parents[2]


def test_environment_then_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COHORTBENCH_BOOTSTRAP_RESAMPLES", "300")
    monkeypatch.setenv("COHORTBENCH_EMBEDDED_WORKER", "no")
    monkeypatch.setenv("COHORTBENCH_DATA_DIR", str(tmp_path / "env"))
    settings = Settings.from_env(data_dir=tmp_path / "cli", importance_repeats=None)
    assert settings.bootstrap_resamples == 300 and settings.embedded_worker is False
    assert settings.data_dir == tmp_path / "cli" and settings.importance_repeats == 3
    assert settings.db_url == f"sqlite:///{(tmp_path / 'cli').resolve() / 'cohortbench.db'}"


def test_an_unknown_variable_is_refused_with_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COHORTBENCH_BOOTSTRAP_RESAMPLE", "300")  # the S is missing
    with pytest.raises(ValidationError, match="COHORTBENCH_BOOTSTRAP_RESAMPLE;") as caught:
        Settings.from_env()
    assert all(name in caught.value.message for name in known_variables())


def test_a_value_of_the_wrong_type_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COHORTBENCH_BOOTSTRAP_RESAMPLES", "many")
    with pytest.raises(
        ValidationError, match="COHORTBENCH_BOOTSTRAP_RESAMPLES: Input should be a valid integer"
    ):
        Settings.from_env()
    monkeypatch.setenv("COHORTBENCH_BOOTSTRAP_RESAMPLES", "0")
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        Settings.from_env()


def test_settings_are_frozen_and_take_no_unknown_keyword() -> None:
    settings = Settings()
    with pytest.raises(Exception, match="frozen"):
        settings.bootstrap_resamples = 5  # type: ignore[misc]
    with pytest.raises(Exception, match=r"bootstrap_resample\b"):
        Settings(bootstrap_resample=5)  # type: ignore[call-arg]


def test_every_setting_is_documented() -> None:
    docs = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert settings_table() in docs, "regenerate the table of docs/settings.md with settings_table()"
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 20, name


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_read_somewhere(name: str) -> None:
    """A setting that nothing reads is a knob that does nothing: remove it or wire it."""
    reads = [
        path
        for path in (ROOT / "src" / "cohortbench").rglob("*.py")
        if re.search(rf"\.{name}\b", path.read_text(encoding="utf-8"))
    ]
    assert reads, f"no module reads settings.{name}"


@pytest.mark.parametrize("name", sorted(OTHER_VARIABLES))
def test_every_other_variable_is_read_somewhere(name: str) -> None:
    roots = [ROOT / "src", ROOT / "tests"]
    files = [p for root in roots for p in root.rglob("*.py") if p.name != "settings.py"]
    assert any(name in p.read_text(encoding="utf-8") for p in files), name
