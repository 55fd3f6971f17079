"""cohortbench.toml: the bundle's manifest, parsed strictly so every bad field is reported at once."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cohortbench.bundles.plan import Plan, plan_problems
from cohortbench.bundles.runtime import requirement_problem
from cohortbench.errors import ValidationError

MANIFEST_NAME = "cohortbench.toml"
MAX_MANIFEST_BYTES = 64 * 1024
FRAMEWORKS = ("sklearn", "xgboost", "lightgbm", "torch", "onnx", "python")
#: frameworks whose weights alone make a model (no model.py needed)
ZERO_CODE_FRAMEWORKS = frozenset({"sklearn", "xgboost", "lightgbm", "onnx"})
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ENTRY_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)")
METRIC_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
WEIGHT_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
ARG_TYPES = (bool, int, float, str)


class BundleError(ValidationError):
    """A bundle that may not run; `problems` lists each one (the message joins them)."""

    code = "invalid_bundle"

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Manifest:
    """What a bundle declares about itself: see DESIGN.md, bundle format."""

    name: str
    framework: str
    entry: str | None = None
    claimed: Mapping[str, float] = field(default_factory=dict)
    plan: Plan = field(default_factory=Plan)
    requirements: tuple[str, ...] = ()
    weights: tuple[str, ...] = ()
    model_args: Mapping[str, bool | int | float | str] = field(default_factory=dict)
    description: str = ""

    @property
    def entry_module(self) -> str | None:
        return self.entry.split(":")[0] if self.entry else None

    @property
    def entry_class(self) -> str | None:
        return self.entry.split(":")[1] if self.entry else None


def _name(v: Any) -> str | None:
    ok = isinstance(v, str) and NAME_RE.fullmatch(v)
    return None if ok else "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def _framework(v: Any) -> str | None:
    return None if v in FRAMEWORKS else f"must be one of {', '.join(FRAMEWORKS)}, got {v!r}"


def _entry(v: Any) -> str | None:
    ok = isinstance(v, str) and ENTRY_RE.fullmatch(v)
    return None if ok else f"must be 'module:Class' (e.g. 'model:Model'), got {v!r}"


def _claimed(v: Any) -> str | None:
    if not isinstance(v, Mapping):
        return "must be a table of metric = value, e.g. { macro_f1 = 0.8 }"
    for metric, value in v.items():
        if not METRIC_RE.fullmatch(metric):
            return f"metric name {metric!r} must be lower_snake_case"
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
            return f"{metric} must be a number in [0, 1], got {value!r}"
    return None


def _requirements(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(r, str) for r in v):
        return "must be a list of package names, e.g. ['xgboost']"
    unmet = [p for p in (requirement_problem(r) for r in v) if p]
    return "; ".join(unmet) or None


def _weights(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(w, str) and WEIGHT_NAME_RE.fullmatch(w) for w in v):
        return "must be a list of file names inside weights/ (no folders), e.g. ['model.json']"
    return None


def _model_args(v: Any) -> str | None:
    if not isinstance(v, Mapping) or not all(isinstance(a, ARG_TYPES) for a in v.values()):
        return "must be a table of simple values (bool, int, float, str)"
    return None


def _description(v: Any) -> str | None:
    return None if isinstance(v, str) and len(v) <= 2000 else "must be a string of at most 2000 characters"


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "name": _name,
    "framework": _framework,
    "entry": _entry,
    "claimed": _claimed,
    "requirements": _requirements,
    "weights": _weights,
    "model_args": _model_args,
    "description": _description,
}
_KNOWN = (*_CHECKS, "plan")


def manifest_problems(data: Mapping[str, Any]) -> list[str]:
    """Every problem of a parsed manifest, one per field, each starting with the field's name."""
    problems = [f"{key}: unknown field (known: {', '.join(_KNOWN)})" for key in data if key not in _KNOWN]
    problems += [f"{key}: missing (required)" for key in ("name", "framework") if key not in data]
    for key, value in data.items():
        message = _CHECKS[key](value) if key in _CHECKS else None
        if message:
            problems.append(f"{key}: {message}")
    problems += plan_problems(data.get("plan", {}))
    framework = data.get("framework")
    if framework in FRAMEWORKS and framework not in ZERO_CODE_FRAMEWORKS and "entry" not in data:
        problems.append(f"entry: required for framework {framework!r} (e.g. entry = 'model:Model')")
    return problems


def parse_manifest(text: str) -> Manifest:
    """Parse cohortbench.toml text; raise BundleError listing every bad field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BundleError(f"{MANIFEST_NAME}: not valid TOML ({exc})") from None
    problems = manifest_problems(data)
    if problems:
        raise BundleError(problems)
    return Manifest(
        name=data["name"],
        framework=data["framework"],
        entry=data.get("entry"),
        claimed={k: float(v) for k, v in data.get("claimed", {}).items()},
        plan=Plan.from_dict(data.get("plan", {})),
        requirements=tuple(data.get("requirements", ())),
        weights=tuple(data.get("weights", ())),
        model_args=dict(data.get("model_args", {})),
        description=data.get("description", ""),
    )


def read_manifest(bundle_dir: Path) -> Manifest:
    """Read and parse the manifest of an unpacked bundle (a regular file, size-capped)."""
    path = bundle_dir / MANIFEST_NAME
    if path.is_symlink() or not path.is_file():
        raise BundleError(f"{MANIFEST_NAME}: missing at the bundle's top level")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{MANIFEST_NAME}: larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{MANIFEST_NAME}: not UTF-8 text") from None
    return parse_manifest(text)
