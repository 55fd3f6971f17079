"""Trusted-side check of an unpacked bundle, before anything runs and before the quota is charged.

Nothing here imports or executes contributor code: model.py is parsed with `ast`, weights are
recognised by their bytes. What the sandbox would only find by crashing is reported here early.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import stat
from pathlib import Path

from cohortbench.bundles.manifest import BundleError, Manifest, read_manifest
from cohortbench.bundles.runtime import COHORTBENCH_SURFACE, importable_roots
from cohortbench.bundles.weights import pickle_problem, weights_problem
from cohortbench.errors import ValidationError

MAX_SOURCE_BYTES = 1024 * 1024


def validate_bundle(bundle_dir: Path) -> Manifest:
    """Check a bundle folder and return its manifest (with `weights` filled in from weights/)."""
    manifest = read_manifest(bundle_dir)
    problems = [p for p in (pickle_problem(f, _rel(f, bundle_dir)) for f in _files(bundle_dir)) if p]
    weights, weight_problems = _check_weights(bundle_dir, manifest)
    problems += weight_problems
    if manifest.entry:
        problems += _entry_problems(bundle_dir, manifest.entry)
    if problems:
        raise BundleError(problems)
    _check_imports(bundle_dir)
    return dataclasses.replace(manifest, weights=weights)


def _files(bundle_dir: Path) -> list[Path]:
    """Every regular file, refusing links and special files (unpack_bundle already did; this may run alone)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(bundle_dir, followlinks=False):
        for name in dirs + files:
            path = Path(root, name)
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise BundleError(f"{_rel(path, bundle_dir)}: only regular files and folders are allowed")
        found += [Path(root, name) for name in files]
    return sorted(found)


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _check_weights(bundle_dir: Path, manifest: Manifest) -> tuple[tuple[str, ...], list[str]]:
    """The weights files to load and the problems with them."""
    folder = bundle_dir / "weights"
    present = sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    declared = manifest.weights or tuple(present)
    problems = [
        f"weights: {name!r} is declared but not in weights/" for name in declared if name not in present
    ]
    if not declared and manifest.framework != "python":
        problems.append(f"weights: no weights file in weights/ (a {manifest.framework} bundle needs one)")
    for name in declared:
        if name in present:
            problem = weights_problem(folder / name, manifest.framework)
            problems += [problem] if problem else []
    return tuple(declared), problems


def _parse(path: Path, rel: str) -> ast.Module:
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise BundleError(f"{rel}: larger than {MAX_SOURCE_BYTES} bytes")
    try:
        return ast.parse(path.read_bytes(), filename=rel)
    except SyntaxError as exc:
        raise BundleError(f"{rel}:{exc.lineno}: syntax error ({exc.msg})") from None
    except ValueError:
        raise BundleError(f"{rel}: not valid Python source") from None


def _entry_problems(bundle_dir: Path, entry: str) -> list[str]:
    module, cls = entry.split(":")
    path = bundle_dir / f"{module}.py"
    if not path.is_file():
        return [f"entry: {module}.py not found at the bundle's top level (entry = {entry!r})"]
    tree = _parse(path, path.name)
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    if cls not in classes:
        found = ", ".join(sorted(classes)) or "none"
        return [f"entry: class {cls!r} is not defined at the top level of {module}.py (classes: {found})"]
    return []


def _check_imports(bundle_dir: Path) -> None:
    """Refuse imports the runtime cannot satisfy (code import_error), as the sandbox would, but earlier."""
    allowed = (
        importable_roots()
        | {p.stem for p in bundle_dir.glob("*.py")}
        | {p.name for p in bundle_dir.iterdir() if p.is_dir()}
    )
    for path in sorted(bundle_dir.rglob("*.py")):
        rel = _rel(path, bundle_dir)
        for lineno, name in _imports(_parse(path, rel)):
            root = name.split(".")[0]
            if root not in allowed:
                raise ValidationError(
                    f"{rel}:{lineno}: imports {name!r}, which the runtime lacks (see docs/runtime.md)",
                    code="import_error",
                )
            if (
                root == "cohortbench"
                and not name.startswith(COHORTBENCH_SURFACE[1])
                and name != "cohortbench"
            ):
                raise ValidationError(
                    f"{rel}:{lineno}: imports {name!r}; bundles may only use cohortbench.bundles",
                    code="import_error",
                )


def _imports(tree: ast.Module) -> list[tuple[int, str]]:
    """Absolute imports outside try blocks (a guarded import may fall back)."""
    guarded = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try) for s in t.body for n in ast.walk(s)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found
