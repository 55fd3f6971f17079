"""Layers only point down: every import inside src/cohortbench goes to a lower layer (DESIGN.md,
"Architecture"), so that a lower package never changes because a higher one did.

The import graph is read from the source with `ast` (imports inside functions and under
TYPE_CHECKING included), not by importing anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "cohortbench"

#: each top-level package or module of cohortbench and its layer, lowest first. A module may import
#: its own package and any lower layer; the core packages (layer 1) may import one another.
LAYERS: dict[str, int] = {
    "errors": 0,
    **dict.fromkeys(("cohorts", "workspaces", "bundles", "scoring", "privacy", "sandbox"), 1),
    "client": 1,  # the SDK: a contributor installs it without the platform
    "terminal": 1,  # rich output shared by the CLI and the demo
    "store": 2,
    "jobs": 3,
    "service": 4,
    "http_deps": 5,  # FastAPI dependencies shared by the pages and the REST API
    "web": 6,
    "api": 7,  # mounts the web pages
    "demo": 8,
    "cli": 9,
    "__init__": 9,  # the package's public names
}
CORE = 1
MODULES = {path.name.removesuffix(".py") for path in PACKAGE.iterdir()} - {"__init__", "py.typed"}


def top_level(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0].removesuffix(".py")


def imported(path: Path) -> set[str]:
    """The cohortbench top-level names a module imports (absolute and relative imports)."""
    package = ".".join(("cohortbench", *path.relative_to(PACKAGE).parent.parts))
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            modules = [".".join(filter(None, (base, node.module or "")))]
            if node.module is None or modules[0] == "cohortbench":
                modules = [f"{modules[0]}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {m.split(".")[1] for m in modules if m.startswith("cohortbench.")}
    return {name for name in found if name in MODULES}  # not `from cohortbench import __version__`


def violations() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = top_level(path)
        for target in sorted(imported(path) - {source}):
            low, high = LAYERS[target], LAYERS[source]
            if low > high or (low == high and low != CORE):
                out.append(f"{path.relative_to(PACKAGE)} (layer {high}) imports {target} (layer {low})")
    return out


def test_every_top_level_module_has_a_layer() -> None:
    names = {top_level(path) for path in PACKAGE.rglob("*.py")}
    assert names <= set(LAYERS), f"give these a layer in LAYERS: {sorted(names - set(LAYERS))}"


def test_imports_only_point_down() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [("store", "service", False), ("web", "api", False), ("demo", "cli", False), ("api", "web", True)],
)
def test_the_rule_itself(source: str, target: str, allowed: bool) -> None:
    """The rule the walk applies, on the arrows issue 18 removed and one that stays."""
    assert (LAYERS[target] < LAYERS[source]) is allowed


#: the module that reads and writes a workspace's `settings` JSON (its cohort notes and EDA cache)
SETTINGS_OWNERS = {"service/workspaces/notes.py"}


def test_only_the_accessors_touch_a_workspace_s_settings_json() -> None:
    """The cohort notes and the EDA cache share one column: only their accessor touches it."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "settings":
                owner = node.value
                name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
                if "workspace" in name.lower() or name in ("ws", "w"):
                    found.add(str(path.relative_to(PACKAGE)))
    assert found - {"store/models.py"} == SETTINGS_OWNERS


#: service/ is split by reading and writing. The write side (submit, evaluate, settle, what the worker
#: stores for the board, workspace changes) never imports the read side (the owner-side views, the
#: release step and its public models, the leaderboard and its cache), so a change to what is shown
#: cannot change what is stored. The read side may use the write model (e.g. `board_of` for a
#: submission that has no stored board yet).
WRITE_SIDE = ("evaluation", "settlement", "phase_request", "board_record", "submissions", "workspaces")
READ_SIDE = ("results", "release", "public", "boards", "board_cache", "holdup", "usage")
SERVICE = PACKAGE / "service"


def service_imports(path: Path) -> set[str]:
    """The service modules (or subpackages) a module imports, by their name under service/."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[:2] == ["cohortbench", "service"]:
                found |= {parts[2]} if len(parts) > 2 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("cohortbench.service.")}
    return found


def side_of(path: Path) -> str:
    return path.relative_to(SERVICE).parts[0].removesuffix(".py")


def test_the_write_side_of_service_never_imports_the_read_side() -> None:
    bad = [
        f"{path.relative_to(PACKAGE)} imports service.{target}"
        for path in sorted(SERVICE.rglob("*.py"))
        if side_of(path) in WRITE_SIDE
        for target in sorted(service_imports(path) & set(READ_SIDE))
    ]
    assert bad == []


def test_every_named_side_exists_and_service_modules_stay_small() -> None:
    names = {side_of(path) for path in SERVICE.rglob("*.py")}
    assert set(WRITE_SIDE) | set(READ_SIDE) <= names
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in SERVICE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 250
    }
    assert long == {}
